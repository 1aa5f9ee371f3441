using System.Net;
using System.Net.Sockets;

namespace FlowOrleans.Benchmarks.Systems;

/// <summary>
/// A listener on 127.0.0.1 that hands out connected socket pairs (client end, accepted server end), both with
/// Nagle disabled. Dials are serialised so the accepted socket is always the one just dialled; scenarios open
/// connections one at a time anyway.
/// </summary>
internal sealed class LoopbackListener : IDisposable
{
    private readonly Socket _listener;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public LoopbackListener()
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
    }

    public async ValueTask<(Socket Client, Socket Server)> ConnectPairAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            var accept = _listener.AcceptAsync(cancellationToken);
            await client.ConnectAsync(_listener.LocalEndPoint!, cancellationToken);
            var server = await accept;
            server.NoDelay = true;
            return (client, server);
        }
        catch
        {
            client.Dispose();
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _listener.Dispose();
        _gate.Dispose();
    }
}
