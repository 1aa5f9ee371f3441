using System.Globalization;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;

namespace FlowOrleans.Benchmarks.Scale;

/// <summary>
/// The one server <see cref="FlowManager"/> of the idle scale scenarios, listening on loopback tcp. Every flow a
/// client opens starts with one marker byte, which the server echoes: <see cref="KeepOpen"/> asks it to keep the flow
/// open and idle (held in a list, with no read pending, so the harness adds 8 bytes a flow), anything else means the
/// client is about to close it, and the server reads to end of stream and disposes its end.
/// <para>
/// Options are the defaults except <see cref="FlowManagerOptions.MaxCachedConnections"/>, which is raised to the number of
/// connections the scenario makes: at the default 256 a manager evicts idle connections without flows beyond that
/// many, which is the cache doing its job, not what these scenarios measure; and
/// <see cref="FlowManagerOptions.TotalReceiveBudget"/>, raised to <see cref="ScaleReceiveBudget"/>: every connection
/// reserves its shared credit (256 KiB) and every flow its window (at least 16 KiB) from it, so the default 512 MiB
/// carries about 2,000 connections or 30,000 flows, and the budget refuses the rest (docs/benchmarks.md, "Cost as
/// work grows"). A reservation is a bound, not memory: what the scenarios measure is what the manager holds.
/// </para>
/// </summary>
internal sealed class IdleFlowServer : IAsyncDisposable
{
    public const byte KeepOpen = 1;
    public const byte WillClose = 0;

    /// <summary>Room for 10,000 connections' shared credit and 100,000 flows' windows: 64 GiB of reservations.</summary>
    public const long ScaleReceiveBudget = 64L << 30;

    private readonly FlowManager _manager;
    private readonly Task _acceptLoop;
    private readonly List<IFlow> _kept = [];
    private readonly CancellationTokenSource _stopping = new();

    // The connections as the last wait found them, so a lost one can say why it closed.
    private IReadOnlyList<IManagedConnection> _awaited = [];
    private Exception? _failure;

    private IdleFlowServer(FlowManager manager, Endpoint endpoint)
    {
        _manager = manager;
        Endpoint = endpoint;
        _acceptLoop = AcceptLoopAsync();
    }

    public Endpoint Endpoint { get; }

    public static async Task<IdleFlowServer> StartAsync(int connections, CancellationToken cancellationToken)
    {
        var manager = new FlowManager(new FlowManagerOptions
        {
            MaxCachedConnections = Math.Max(connections, 1) + 1,
            TotalReceiveBudget = ScaleReceiveBudget,
        });
        try
        {
            var listener = await manager.ListenAsync("tcp", "127.0.0.1:0", cancellationToken);
            return new IdleFlowServer(manager, listener.Endpoint);
        }
        catch
        {
            await manager.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Waits until the manager holds exactly <paramref name="connections"/> connections and the server keeps
    /// <paramref name="flows"/> flows open; throws the first failure of a served flow as soon as one happens.
    /// </summary>
    public async Task WaitUntilAsync(int connections, int flows, CancellationToken cancellationToken)
    {
        while (!Holds(connections, flows))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }

        _awaited = _manager.Connections;
    }

    /// <summary>
    /// Null while the manager still holds exactly <paramref name="connections"/> connections and the server keeps
    /// <paramref name="flows"/> flows, otherwise what went missing and why: a measurement taken while connections were
    /// lost would be wrong.
    /// </summary>
    public string? Lost(int connections, int flows)
    {
        var closed = _awaited.Where(c => c.Closed.IsCompleted).ToList();
        return Holds(connections, flows) && closed.Count == 0
            ? null
            : string.Create(CultureInfo.InvariantCulture,
                $"it holds {_manager.Connections.Count} connections and {KeptCount()} flows, {connections} and {flows} expected; " +
                $"{closed.Count} closed{(closed.Count > 0 ? $" (first: {closed[0].CloseReason?.Message ?? "closed locally"})" : "")}");
    }

    private bool Holds(int connections, int flows)
    {
        if (Volatile.Read(ref _failure) is { } failure)
        {
            throw new InvalidOperationException("The server failed to serve a flow: " + failure.Message, failure);
        }

        return KeptCount() == flows && _manager.Connections.Count == connections;
    }

    private int KeptCount()
    {
        lock (_kept)
        {
            return _kept.Count;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _manager.DisposeAsync(); // fails the pending AcceptAsync, which ends the loop, and closes every connection
        await _acceptLoop;
        IFlow[] kept;
        lock (_kept)
        {
            kept = [.. _kept];
            _kept.Clear();
        }

        foreach (var flow in kept)
        {
            await flow.DisposeAsync();
        }

        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            IFlow flow;
            try
            {
                flow = await _manager.AcceptAsync();
            }
            catch (FlowException)
            {
                return; // the manager closed
            }

            _ = ServeAsync(flow);
        }
    }

    private async Task ServeAsync(IFlow flow)
    {
        var cancellationToken = _stopping.Token;
        try
        {
            var marker = new byte[1];
            if (await flow.ReadAsync(marker, cancellationToken) == 0)
            {
                throw new InvalidDataException("A flow ended before its marker byte.");
            }

            await flow.WriteAsync(marker, cancellationToken);
            if (marker[0] == KeepOpen)
            {
                lock (_kept)
                {
                    _kept.Add(flow);
                }

                return;
            }

            while (await flow.ReadAsync(marker, cancellationToken) > 0)
            {
                // The client sends nothing after the marker; it closes.
            }

            await flow.DisposeAsync();
        }
        catch (Exception e) when (e is FlowException or IOException or InvalidDataException or OperationCanceledException)
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
            }

            await flow.DisposeAsync();
        }
    }
}
