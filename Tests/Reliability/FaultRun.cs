using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using FlowOrleans.Tests.Connections;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Protocols.Faults;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Reliability;

/// <summary>
/// Two managers talking over a <see cref="FaultProtocol"/>: a server that checks every request byte against its
/// <see cref="PayloadPattern"/> and answers with a checked reply, and a client that runs such exchanges. Every flow
/// ends in one of three ways, counted here: completed with exactly the bytes sent (pattern and SHA-256), failed with
/// an allowed <see cref="FlowException"/> code, or a violation (wrong bytes, a clean end too early, any other
/// error), which the tests report.
/// </summary>
internal sealed class FaultRun : IAsyncDisposable
{
    /// <summary>What a flow may fail with under faults: the connection broke (Network) or closed under it (Aborted).</summary>
    public static readonly FlowErrorCode[] FlowCodes = [FlowErrorCode.Aborted, FlowErrorCode.Network];

    /// <summary>
    /// What a dial may fail with under faults: the flow codes, a dial that did not finish, and the handshake's own codes
    /// for a handshake message a flipped byte changed (docs/architecture.md 3.2).
    /// </summary>
    public static readonly FlowErrorCode[] DialCodes =
        [.. FlowCodes, FlowErrorCode.DialFailed, FlowErrorCode.BadArg, FlowErrorCode.Auth, FlowErrorCode.NotTrusted, FlowErrorCode.BadState];

    private const int HeaderSize = 16;
    private const int Chunk = 16 * 1024;

    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly ConcurrentDictionary<ManagedConnection, byte> _connections = new();
    private readonly ConcurrentDictionary<string, int> _failures = new();
    private readonly List<Task> _serving = [];
    private Task _acceptLoop = Task.CompletedTask;
    private int _completed;
    private int _serverCompleted;

    private FaultRun(FaultProtocol protocol, FlowManager server, FlowManager client)
    {
        Protocol = protocol;
        Server = server;
        Client = client;
    }

    public FaultProtocol Protocol { get; }

    public FlowManager Server { get; }

    public FlowManager Client { get; }

    public Endpoint ServerEndpoint { get; private set; } = null!;

    /// <summary>Exchanges the client completed with exactly the bytes sent both ways.</summary>
    public int Completed => Volatile.Read(ref _completed);

    /// <summary>Requests the server received whole and answered.</summary>
    public int ServerCompleted => Volatile.Read(ref _serverCompleted);

    /// <summary>Failures by where and code, e.g. <c>client Network</c>.</summary>
    public IReadOnlyDictionary<string, int> Failures => _failures;

    public IReadOnlyCollection<string> Violations => _violations;

    public static async Task<FaultRun> StartAsync(
        Func<FaultConnectionInfo, FaultPlan> plans,
        Action<ConnectionOptions>? connection = null,
        IProtocol? inner = null,
        string innerProtocol = MemoryProtocol.ProtocolName,
        TimeSpan? dialTimeout = null)
    {
        var protocol = new FaultProtocol(inner ?? new MemoryProtocol(), innerProtocol, plans);
        var registry = new ProtocolRegistry();
        registry.Register(FaultProtocol.ProtocolName, protocol);
        FlowManagerOptions Options()
        {
            var options = new FlowManagerOptions
            {
                Protocols = registry,
                DialTimeout = dialTimeout ?? TimeSpan.FromSeconds(10),
                PinBackoffMin = TimeSpan.FromMilliseconds(20),
                PinBackoffMax = TimeSpan.FromMilliseconds(500),
            };
            connection?.Invoke(options.Connection);
            return options;
        }

        var run = new FaultRun(protocol, new FlowManager(Options()), new FlowManager(Options()));
        var address = innerProtocol == MemoryProtocol.ProtocolName ? "" : "127.0.0.1:0";
        var listener = await run.Server.ListenAsync(FaultProtocol.ProtocolName, address);
        run.ServerEndpoint = listener.Endpoint;
        run._acceptLoop = run.AcceptLoopAsync();
        return run;
    }

    /// <summary>
    /// One exchange: dials (or reuses the cached connection), sends <paramref name="requestBytes"/> of pattern
    /// <paramref name="seed"/>, reads <paramref name="replyBytes"/> back, and records how it ended. Never throws for
    /// an outcome; only the run's stop token ends it early.
    /// </summary>
    public async Task ExchangeAsync(ulong seed, int requestBytes, int replyBytes)
    {
        IFlow flow;
        try
        {
            flow = await Client.DialAsync(ServerEndpoint, PeerAuthorizers.AllowEveryone(Client.Principal), cancellationToken: _stop.Token);
        }
        catch (Exception e)
        {
            Classify("dial", e, DialCodes);
            return;
        }

        await using (flow)
        {
            Track(flow);
            try
            {
                var header = new byte[HeaderSize];
                BinaryPrimitives.WriteUInt64BigEndian(header, seed);
                BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), requestBytes);
                BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(12), replyBytes);
                await flow.WriteAsync(header, _stop.Token);
                await WritePatternAsync(flow, new PayloadPattern(seed), requestBytes, _stop.Token);
                await flow.CloseWriteAsync(_stop.Token);
                if (await ReadPatternAsync(flow, new PayloadPattern(ReplySeed(seed)), replyBytes, "client", _stop.Token))
                {
                    Interlocked.Increment(ref _completed);
                }
            }
            catch (Exception e)
            {
                Classify("client", e, FlowCodes);
            }
        }
    }

    /// <summary>Disposes both managers and checks that nothing was left behind: pumps, loops, flows, buffers, windows.</summary>
    public async Task AssertNothingLeftAsync()
    {
        await DisposeAsync();
        await ConnectionTestKit.WaitUntilAsync(() => Protocol.RunningPumps == 0, () => $"{Protocol.RunningPumps} fault pumps still run");
        foreach (var connection in _connections.Keys)
        {
            await connection.Closed.WaitAsync(ConnectionTestKit.TestTimeout);
            var c = connection.Counters;
            await ConnectionTestKit.WaitUntilAsync(
                () => c is { RunningLoops: 0, OpenFlows: 0, BufferedBytes: 0, ReservedWindowBytes: 0, OutstandingBuffers: 0 },
                () => $"the {connection.Role} connection closed ({connection.CloseReason?.Message ?? "orderly"}) with {c.RunningLoops} loops, " +
                    $"{c.OpenFlows} flows, {c.BufferedBytes} B buffered, {c.ReservedWindowBytes} B of windows reserved, {c.OutstandingBuffers} record buffers out");
        }
    }

    /// <summary>Fails the test with every violation seen, each naming <paramref name="what"/>.</summary>
    public void AssertNoViolations(string what) =>
        Assert.True(_violations.IsEmpty, $"{what}: {string.Join("; ", _violations)}");

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync();
        await Client.DisposeAsync();
        await Server.DisposeAsync();
        await _acceptLoop;
        Task[] serving;
        lock (_serving)
        {
            serving = [.. _serving];
        }

        await Task.WhenAll(serving);
    }

    private static ulong ReplySeed(ulong seed) => seed ^ 0xA5A5A5A5A5A5A5A5UL;

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            IFlow flow;
            try
            {
                flow = await Server.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is FlowException or OperationCanceledException)
            {
                return;
            }

            lock (_serving)
            {
                _serving.Add(Task.Run(() => ServeAsync(flow)));
            }
        }
    }

    private async Task ServeAsync(IFlow flow)
    {
        await using (flow)
        {
            Track(flow);
            try
            {
                var header = new byte[HeaderSize];
                for (var read = 0; read < HeaderSize;)
                {
                    var n = await flow.ReadAsync(header.AsMemory(read), _stop.Token);
                    if (n == 0)
                    {
                        _violations.Enqueue($"server: the request ended cleanly after {read} header bytes");
                        return;
                    }

                    read += n;
                }

                var seed = BinaryPrimitives.ReadUInt64BigEndian(header);
                var requestBytes = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(8));
                var replyBytes = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(12));
                if (!await ReadPatternAsync(flow, new PayloadPattern(seed), requestBytes, "server", _stop.Token))
                {
                    return;
                }

                Interlocked.Increment(ref _serverCompleted);
                await WritePatternAsync(flow, new PayloadPattern(ReplySeed(seed)), replyBytes, _stop.Token);
                await flow.CloseWriteAsync(_stop.Token);
            }
            catch (Exception e)
            {
                Classify("server", e, FlowCodes);
            }
        }
    }

    private static async Task WritePatternAsync(IFlow flow, PayloadPattern pattern, int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[Chunk];
        for (var left = count; left > 0;)
        {
            var n = Math.Min(left, buffer.Length);
            pattern.Fill(buffer.AsSpan(0, n));
            await flow.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
            left -= n;
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes of the pattern and then the end; false (and a violation) otherwise.</summary>
    private async Task<bool> ReadPatternAsync(IFlow flow, PayloadPattern pattern, int count, string side, CancellationToken cancellationToken)
    {
        using var received = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[Chunk];
        while (true)
        {
            var n = await flow.ReadAsync(buffer, cancellationToken);
            if (n == 0)
            {
                break;
            }

            if (pattern.Position + n > count)
            {
                _violations.Enqueue($"{side}: {pattern.Position + n} bytes arrived where {count} were sent");
                return false;
            }

            var wrong = pattern.Verify(buffer.AsSpan(0, n));
            if (wrong >= 0)
            {
                _violations.Enqueue($"{side}: byte {wrong} differs from what was sent");
                return false;
            }

            received.AppendData(buffer, 0, n);
        }

        if (pattern.Position != count)
        {
            _violations.Enqueue($"{side}: the stream ended cleanly after {pattern.Position} of {count} bytes");
            return false;
        }

        // The pattern check is byte for byte; the digest is the end-to-end checksum a user of the flow would compare.
        if (!received.GetHashAndReset().AsSpan().SequenceEqual(PayloadPattern.Sha256(pattern.Seed, count)))
        {
            _violations.Enqueue($"{side}: the SHA-256 of the {count} bytes received differs from the sender's");
            return false;
        }

        return true;
    }

    private void Track(IFlow flow)
    {
        if (flow.Connection is ManagedConnection connection)
        {
            _connections.TryAdd(connection, 0);
        }
    }

    private void Classify(string where, Exception error, FlowErrorCode[] allowed)
    {
        if (error is OperationCanceledException && _stop.IsCancellationRequested)
        {
            _violations.Enqueue($"{where}: still running when the run was stopped (a hang)");
        }
        else if (error is FlowException flow && Array.IndexOf(allowed, flow.Code) >= 0)
        {
            _failures.AddOrUpdate($"{where} {flow.Code}", 1, (_, n) => n + 1);
        }
        else
        {
            _violations.Enqueue($"{where}: {error.GetType().Name} {(error as FlowException)?.Code}: {error.Message}");
        }
    }
}
