using System.Net.Security;

namespace FlowOrleans.Benchmarks.Systems;

/// <summary>SslStream TLS 1.3 over loopback TCP, mutually authenticated; one connection per flow.</summary>
internal sealed class TlsSystem : IBenchSystem
{
    private readonly LoopbackListener _listener = new();
    private readonly TlsCredentials _credentials = new();

    public string Name => "tls";

    public bool IsMultiplexed => false;

    public static ValueTask<IBenchSystem> StartAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IBenchSystem>(new TlsSystem());

    public ValueTask<IBenchConnection> ConnectAsync(CancellationToken cancellationToken) =>
        PerFlowConnection.ConnectAsync(DialAsync, SendCloseNotify, cancellationToken);

    public ValueTask DisposeAsync()
    {
        _listener.Dispose();
        _credentials.Dispose();
        return ValueTask.CompletedTask;
    }

    private async ValueTask<(Stream Client, Stream Server)> DialAsync(CancellationToken cancellationToken)
    {
        var (client, server) = await _listener.ConnectPairAsync(cancellationToken);
        try
        {
            return await _credentials.AuthenticateAsync(client, server, cancellationToken);
        }
        catch
        {
            client.Dispose();
            server.Dispose();
            throw;
        }
    }

    /// <summary>TLS's half-close: a close_notify alert, which the peer reads as end of stream; this end can still read.</summary>
    internal static ValueTask SendCloseNotify(Stream stream, CancellationToken cancellationToken) =>
        new(((SslStream)stream).ShutdownAsync());
}
