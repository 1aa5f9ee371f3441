using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Net.WebSockets;
using FlowOrleans.Transport.Protocols.Sockets;
using FlowOrleans.Transport.Protocols.WebSockets;

namespace FlowOrleans.Transport.Protocols;

/// <summary>
/// The <c>ws</c>, <c>ws4</c> and <c>ws6</c> protocols: frames as binary WebSocket messages over TCP, for peers
/// that only get through HTTP infrastructure (browsers, proxies). Addresses are TCP addresses; the client
/// requests <c>ws://address/</c>. Dialing uses <see cref="ClientWebSocket"/>; listening answers the HTTP/1.1
/// upgrade itself.
/// </summary>
public sealed class WebSocketProtocol : IProtocol
{
    private readonly FramingOptions _options;

    /// <summary>Creates the protocol; <paramref name="options"/> is validated and copied.</summary>
    public WebSocketProtocol(FramingOptions? options = null)
    {
        _options = (options ?? new FramingOptions()).ValidatedCopy();
    }

    /// <inheritdoc />
    public ValueTask<IFramedConnection> DialAsync(string protocol, string address, TimeSpan timeout, CancellationToken ct = default) =>
        DialWebSocketAsync(protocol, address, timeout, _options, ct);

    /// <inheritdoc />
    public async ValueTask<ResolvedAddresses> ResolveAsync(string protocol, string address, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(address);

        if (FamilyOf(protocol) is not { } family)
        {
            throw TcpSockets.ResolveFailure(protocol, address, "not a WebSocket protocol");
        }

        return new ResolvedAddresses(protocol, await TcpSockets.ResolveAsync(protocol, address, family, ct).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async ValueTask<IProtocolListener> ListenAsync(string protocol, string address, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(address);

        if (FamilyOf(protocol) is not { } family)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"Cannot listen on \"{address}\": {protocol} is not a WebSocket protocol.");
        }

        Socket socket = await TcpSockets.ListenAsync(protocol, address, family, _options.ListenBacklog, ct).ConfigureAwait(false);
        return new WebSocketListener(socket, protocol, _options, hybrid: false, webSocketProtocol: protocol, rawProtocol: protocol);
    }

    internal static AddressFamily? FamilyOf(string protocol) => protocol switch
    {
        "ws" => AddressFamily.Unspecified,
        "ws4" => AddressFamily.InterNetwork,
        "ws6" => AddressFamily.InterNetworkV6,
        _ => null,
    };

    /// <summary>Dials a WebSocket: our own TCP connection and socket transport, upgraded by <see cref="ClientWebSocket"/>.</summary>
    internal static async ValueTask<IFramedConnection> DialWebSocketAsync(
        string protocol,
        string address,
        TimeSpan timeout,
        FramingOptions options,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(address);

        using var attempt = new DialAttempt(protocol, address, timeout, cancellationToken);
        SocketTransport? transport = null;
        ClientWebSocket? client = null;
        try
        {
            if (FamilyOf(protocol) is not { } family)
            {
                throw attempt.Failure("not a WebSocket protocol");
            }

            if (!TcpAddress.TryParse(address, out string host, out int port))
            {
                throw attempt.Failure("malformed address, expected host:port or [v6]:port");
            }

            Socket socket = await TcpSockets.ConnectAsync(host, port, family, attempt.Token).ConfigureAwait(false);
            transport = new SocketTransport(socket, protocol, options);
            var stream = new TransportStream(transport);

            // The HTTP stack only performs the upgrade request, over the connection made above.
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
            await client.ConnectAsync(RequestUri(host, port, family), invoker, attempt.Token).ConfigureAwait(false);

            return new WebSocketFramedConnection(client, transport, stream, protocol, options.MaxFrameSize, options.DrainTimeout);
        }
        catch (Exception e)
        {
            client?.Dispose();
            if (transport is not null)
            {
                transport.Abort(e);
                await transport.DisposeAsync().ConfigureAwait(false);
            }

            throw attempt.Failure(e);
        }
    }

    private static Uri RequestUri(string host, int port, AddressFamily family)
    {
        if (host.Length == 0)
        {
            host = family == AddressFamily.InterNetworkV6 ? "::1" : "127.0.0.1";
        }

        string authority = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
        return new Uri($"ws://{authority}:{port}/");
    }
}
