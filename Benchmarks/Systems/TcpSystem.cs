using System.Net.Sockets;

namespace FlowOrleans.Benchmarks.Systems;

/// <summary>Raw loopback TCP: no encryption, no multiplexing. The ceiling every other system is held against.</summary>
internal sealed class TcpSystem : IBenchSystem
{
    private readonly LoopbackListener _listener = new();

    public string Name => "tcp";

    public bool IsMultiplexed => false;

    public static ValueTask<IBenchSystem> StartAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IBenchSystem>(new TcpSystem());

    public ValueTask<IBenchConnection> ConnectAsync(CancellationToken cancellationToken) =>
        PerFlowConnection.ConnectAsync(DialAsync, ShutdownSend, cancellationToken);

    public ValueTask DisposeAsync()
    {
        _listener.Dispose();
        return ValueTask.CompletedTask;
    }

    private async ValueTask<(Stream Client, Stream Server)> DialAsync(CancellationToken cancellationToken)
    {
        var (client, server) = await _listener.ConnectPairAsync(cancellationToken);
        return (new NetworkStream(client, ownsSocket: true), new NetworkStream(server, ownsSocket: true));
    }

    /// <summary>A TCP half-close (FIN): the peer reads end of stream, and this end can still read.</summary>
    internal static ValueTask ShutdownSend(Stream stream, CancellationToken cancellationToken)
    {
        ((NetworkStream)stream).Socket.Shutdown(SocketShutdown.Send);
        return ValueTask.CompletedTask;
    }
}
