namespace FlowOrleans.Benchmarks.Systems;

/// <summary>
/// The connection of a system that cannot multiplex: its first flow is the transport connection made by
/// ConnectAsync, and every further flow dials a new one. Open flows are tracked so that disposing the connection
/// closes them all, as closing a multiplexed connection would.
/// </summary>
internal sealed class PerFlowConnection : IBenchConnection
{
    private readonly Func<CancellationToken, ValueTask<(Stream Client, Stream Server)>> _dial;
    private readonly HashSet<FlowPair> _open = [];
    private (Stream Client, Stream Server)? _first;
    private int _transportConnections = 1;

    private PerFlowConnection(
        Func<CancellationToken, ValueTask<(Stream Client, Stream Server)>> dial, (Stream Client, Stream Server) first)
    {
        _dial = dial;
        _first = first;
    }

    public int TransportConnections => Volatile.Read(ref _transportConnections);

    public static async ValueTask<IBenchConnection> ConnectAsync(
        Func<CancellationToken, ValueTask<(Stream Client, Stream Server)>> dial, CancellationToken cancellationToken) =>
        new PerFlowConnection(dial, await dial(cancellationToken));

    public async ValueTask<FlowPair> OpenFlowPairAsync(CancellationToken cancellationToken)
    {
        (Stream Client, Stream Server)? first;
        lock (_open)
        {
            first = _first;
            _first = null;
        }

        var streams = first ?? await DialAnotherAsync(cancellationToken);
        var pair = new FlowPair(streams.Client, streams.Server, ForgetAsync);
        lock (_open)
        {
            _open.Add(pair);
        }

        return pair;
    }

    public async ValueTask DisposeAsync()
    {
        FlowPair[] open;
        (Stream Client, Stream Server)? first;
        lock (_open)
        {
            open = [.. _open];
            _open.Clear();
            first = _first;
            _first = null;
        }

        foreach (var pair in open)
        {
            await pair.DisposeAsync();
        }

        if (first is { } unused)
        {
            await unused.Client.DisposeAsync();
            await unused.Server.DisposeAsync();
        }
    }

    private async ValueTask<(Stream Client, Stream Server)> DialAnotherAsync(CancellationToken cancellationToken)
    {
        var streams = await _dial(cancellationToken);
        Interlocked.Increment(ref _transportConnections);
        return streams;
    }

    private ValueTask ForgetAsync(FlowPair pair)
    {
        lock (_open)
        {
            _open.Remove(pair);
        }

        return ValueTask.CompletedTask;
    }
}
