using System.Globalization;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Benchmarks.Scale;

/// <summary>
/// The client process of the idle scale scenarios: the benchmark starts its own executable with <see cref="Argument"/>,
/// and this end makes the client connections and flows, so that the benchmark process holds only the server's and
/// measures what one manager carries. It reads one command a line on standard input and answers each with one line,
/// <c>ok [result]</c> or <c>error message</c>; nothing else is written to standard output.
/// <list type="bullet">
/// <item><c>warmup ENDPOINT</c>: one connection made, used and closed, so code run for the first one is not charged to the rest</item>
/// <item><c>connect N ENDPOINT</c>: N dial-only client managers, one connection each (a first flow exchanges a marker and closes), left idle</item>
/// <item><c>open F</c>: F more flows on each connection, a marker each way, left open and idle</item>
/// <item><c>footprint</c>: this process's <see cref="ProcessFootprint"/></item>
/// <item><c>check N</c>: fails unless N connections are made and none of them has closed (a health check that went
/// unanswered past the channel timeout would close one), naming the first close reason</item>
/// <item><c>close</c>: closes every manager</item>
/// </list>
/// </summary>
internal sealed class ScaleClientProgram : IAsyncDisposable
{
    public const string Argument = "--scale-client";

    // Dials in flight at once: well inside the server's accept backlog (1,024 flows) and the kernel's listen backlog.
    private const int Parallelism = 32;

    // One identity for every client manager, as FlowSystem has: the server verifies the chain once.
    private readonly Principal _principal = Principal.CreateInMemory();
    private readonly IPeerAuthorizer _authorizer;
    private readonly List<Client> _clients = [];

    private ScaleClientProgram()
    {
        _principal.DefaultBlessings = _principal.BlessSelf("bench-scale-client");
        _authorizer = PeerAuthorizers.AllowEveryone(_principal);
    }

    /// <summary>Serves commands until standard input ends; the exit code is 0 unless the command loop itself broke.</summary>
    public static async Task<int> RunAsync(TextReader commands, TextWriter replies)
    {
        await using var program = new ScaleClientProgram();
        while (await commands.ReadLineAsync() is { } line)
        {
            string reply;
            try
            {
                reply = "ok " + await program.ExecuteAsync(line.Split(' ', StringSplitOptions.RemoveEmptyEntries));
            }
#pragma warning disable CA1031 // Every failure is the answer to the command; the parent reports it.
            catch (Exception e)
#pragma warning restore CA1031
            {
                reply = $"error {e.GetType().Name}: {e.Message}".ReplaceLineEndings(" ");
            }

            await replies.WriteLineAsync(reply);
            await replies.FlushAsync();
        }

        return 0;
    }

    public async ValueTask DisposeAsync() => await CloseAsync();

    private async Task<string> ExecuteAsync(string[] command)
    {
        switch (command)
        {
            case ["warmup", var endpoint]:
                await using (var client = await ConnectAsync(Endpoint.Parse(endpoint)))
                {
                    // A second flow runs the path of flows on an existing connection too.
                    await (await client.DialAsync(IdleFlowServer.WillClose)).DisposeAsync();
                }

                return "";
            case ["connect", var count, var endpoint]:
                var server = Endpoint.Parse(endpoint);
                await Parallel.ForAsync(0, Count(count), Options(), async (_, _) =>
                {
                    var client = await ConnectAsync(server);
                    lock (_clients)
                    {
                        _clients.Add(client);
                    }
                });
                return "";
            case ["open", var perConnection]:
                var flows = Count(perConnection);
                await Parallel.ForEachAsync(Snapshot(), Options(), async (client, _) =>
                {
                    for (var i = 0; i < flows; i++)
                    {
                        await client.OpenFlowAsync(IdleFlowServer.KeepOpen);
                    }
                });
                return "";
            case ["footprint"]:
                return ProcessFootprint.Capture().ToString();
            case ["check", var expected]:
                var clients = Snapshot();
                var closed = clients.Select(c => c.Connection).Where(c => c.Closed.IsCompleted).ToList();
                return clients.Length == Count(expected) && closed.Count == 0
                    ? ""
                    : throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                        $"{clients.Length} connections made, {Count(expected)} expected, {closed.Count} of them closed" +
                        $"{(closed.Count > 0 ? $" (first: {closed[0].CloseReason?.Message ?? "closed locally"})" : "")}."));
            case ["close"]:
                await CloseAsync();
                return "";
            default:
                throw new ArgumentException($"Unknown command '{string.Join(' ', command)}'.");
        }
    }

    private static int Count(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            ? count
            : throw new ArgumentException($"'{text}' is not a count.");

    private static ParallelOptions Options() => new() { MaxDegreeOfParallelism = Parallelism };

    private Client[] Snapshot()
    {
        lock (_clients)
        {
            return [.. _clients];
        }
    }

    /// <summary>A new client manager and its connection, made by a first flow that exchanges the close marker and ends.</summary>
    private async Task<Client> ConnectAsync(Endpoint server)
    {
        var client = new Client(
            new FlowManager(new FlowManagerOptions { RoutingId = RoutingId.Null, Principal = _principal }), server, _authorizer);
        try
        {
            var first = await client.DialAsync(IdleFlowServer.WillClose);
            client.Connection = first.Connection;
            await first.DisposeAsync();
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    private async Task CloseAsync()
    {
        var clients = Snapshot();
        lock (_clients)
        {
            _clients.Clear();
        }

        // Closing a manager closes its connection and with it the flows it kept.
        await Parallel.ForEachAsync(clients, Options(), async (client, _) => await client.DisposeAsync());
    }

    /// <summary>One dial-only client manager (one connection to the server) and the flows it keeps open.</summary>
    private sealed class Client(FlowManager manager, Endpoint server, IPeerAuthorizer authorizer) : IAsyncDisposable
    {
        private readonly List<IFlow> _flows = [];

        /// <summary>The one connection to the server, set by the first flow.</summary>
        public IManagedConnection Connection { get; set; } = null!;

        public async Task OpenFlowAsync(byte marker) => _flows.Add(await DialAsync(marker));

        /// <summary>Opens a flow and exchanges <paramref name="marker"/> with the server: both ends are then fully set up.</summary>
        public async Task<IFlow> DialAsync(byte marker)
        {
            var flow = await manager.DialAsync(server, authorizer);
            try
            {
                var buffer = new[] { marker };
                await flow.WriteAsync(buffer);
                if (await flow.ReadAsync(buffer) != 1 || buffer[0] != marker)
                {
                    throw new InvalidDataException("The server did not echo the flow's marker byte.");
                }

                return flow;
            }
            catch
            {
                await flow.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await manager.DisposeAsync();
            _flows.Clear();
        }
    }
}
