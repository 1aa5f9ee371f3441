namespace FlowOrleans.Benchmarks.Systems;

/// <summary>
/// The connection of a system that cannot multiplex: its first flow is the transport connection made by
/// ConnectAsync, and every further flow dials a new one. Open ends are tracked so that disposing the connection
/// closes them all, as closing a multiplexed connection would.
/// </summary>
internal sealed class PerFlowConnection : IBenchConnection
{
    private readonly Func<CancellationToken, ValueTask<(Stream Client, Stream Server)>> _dial;
    private readonly Func<Stream, CancellationToken, ValueTask> _closeWrite;
    private readonly HashSet<FlowEnd> _open = [];
    private (Stream Client, Stream Server)? _first;
    private int _transportConnections = 1;

    private PerFlowConnection(
        Func<CancellationToken, ValueTask<(Stream Client, Stream Server)>> dial,
        Func<Stream, CancellationToken, ValueTask> closeWrite,
        (Stream Client, Stream Server) first)
    {
        _dial = dial;
        _closeWrite = closeWrite;
        _first = first;
    }

    public int TransportConnections => Volatile.Read(ref _transportConnections);

    /// <summary>
    /// Dials the first connection. <paramref name="closeWrite"/> half-closes one end of a dialled pair, so the
    /// other end reads end of stream.
    /// </summary>
    public static async ValueTask<IBenchConnection> ConnectAsync(
        Func<CancellationToken, ValueTask<(Stream Client, Stream Server)>> dial,
        Func<Stream, CancellationToken, ValueTask> closeWrite,
        CancellationToken cancellationToken) =>
        new PerFlowConnection(dial, closeWrite, await dial(cancellationToken));

    public async ValueTask<FlowPair> OpenFlowPairAsync(CancellationToken cancellationToken)
    {
        (Stream Client, Stream Server)? first;
        lock (_open)
        {
            first = _first;
            _first = null;
        }

        var (client, server) = first ?? await DialAnotherAsync(cancellationToken);
        return new FlowPair(Track(client), Track(server));
    }

    public async ValueTask DisposeAsync()
    {
        FlowEnd[] open;
        (Stream Client, Stream Server)? first;
        lock (_open)
        {
            open = [.. _open];
            _open.Clear();
            first = _first;
            _first = null;
        }

        foreach (var end in open)
        {
            await end.DisposeAsync();
        }

        if (first is { } unused)
        {
            await unused.Client.DisposeAsync();
            await unused.Server.DisposeAsync();
        }
    }

    private TrackedEnd Track(Stream stream)
    {
        var end = new TrackedEnd(stream, this);
        lock (_open)
        {
            _open.Add(end);
        }

        return end;
    }

    private async ValueTask<(Stream Client, Stream Server)> DialAnotherAsync(CancellationToken cancellationToken)
    {
        var streams = await _dial(cancellationToken);
        Interlocked.Increment(ref _transportConnections);
        return streams;
    }

    private void Forget(FlowEnd end)
    {
        lock (_open)
        {
            _open.Remove(end);
        }
    }

    /// <summary>One end of a dialled connection; the connection forgets it once it is disposed.</summary>
    private sealed class TrackedEnd(Stream stream, PerFlowConnection owner) : FlowEnd(stream)
    {
        protected override ValueTask CloseWriteCoreAsync(CancellationToken cancellationToken) => owner._closeWrite(Stream, cancellationToken);

        protected override ValueTask OnDisposedAsync()
        {
            owner.Forget(this);
            return ValueTask.CompletedTask;
        }
    }
}
