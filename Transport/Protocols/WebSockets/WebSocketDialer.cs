using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Net.WebSockets;
using FlowOrleans.Transport.Protocols.Sockets;

namespace FlowOrleans.Transport.Protocols.WebSockets;

/// <summary>
/// Dials <c>ws</c> addresses: a TCP connection of our own, with our socket transport, upgraded by
/// <see cref="ClientWebSocket"/> (the HTTP stack only performs the upgrade request, over that connection).
/// </summary>
internal sealed class WebSocketDialer(FramingOptions options)
    : TcpDialer(options, WebSocketProtocol.FamilyOf, "WebSocket")
{
    protected override async ValueTask<IFramedConnection> WrapAsync(Socket socket, string protocol, Target target, CancellationToken cancellationToken)
    {
        var transport = new SocketTransport(socket, protocol, Options);
        ClientWebSocket? client = null;
        try
        {
            var stream = new TransportStream(transport);
            using var handler = new SocketsHttpHandler
            {
                UseProxy = false,
                ConnectCallback = (_, _) => ValueTask.FromResult<Stream>(stream),
            };
            using var invoker = new HttpMessageInvoker(handler);
            client = new ClientWebSocket();
            client.Options.KeepAliveInterval = TimeSpan.Zero;
            client.Options.HttpVersion = HttpVersion.Version11;
            client.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
            await client.ConnectAsync(RequestUri(target), invoker, cancellationToken).ConfigureAwait(false);

            return new WebSocketFramedConnection(client, transport, stream, protocol, Options.MaxFrameSize, Options.DrainTimeout);
        }
        catch (Exception e)
        {
            client?.Dispose();
            transport.Abort(e);
            await transport.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static Uri RequestUri(Target target)
    {
        string host = target.Host.Length > 0
            ? target.Host
            : target.Family == AddressFamily.InterNetworkV6 ? "::1" : "127.0.0.1";
        string authority = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
        return new Uri($"ws://{authority}:{target.Port}/");
    }
}
