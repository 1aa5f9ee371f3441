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
    private readonly WebSocketDialer _dialer;

    /// <summary>Creates the protocol; <paramref name="options"/> is validated and copied.</summary>
    public WebSocketProtocol(FramingOptions? options = null)
    {
        _options = (options ?? new FramingOptions()).ValidatedCopy();
        _dialer = new WebSocketDialer(_options);
    }

    /// <inheritdoc />
    public ValueTask<IFramedConnection> DialAsync(string protocol, string address, TimeSpan timeout, CancellationToken ct = default) =>
        _dialer.DialAsync(protocol, address, timeout, ct);

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
}
