using System.Net.Sockets;
using FlowOrleans.Transport.Protocols.Sockets;
using FlowOrleans.Transport.Protocols.WebSockets;

namespace FlowOrleans.Transport.Protocols;

/// <summary>
/// The <c>wsh</c>, <c>wsh4</c> and <c>wsh6</c> protocols: one listening TCP port that serves both raw framed TCP
/// clients and WebSocket clients, told apart by their first bytes (<c>"GET "</c> means WebSocket). Dialing and
/// resolving are TCP's, under the matching TCP name, as in Vanadium's hybrid protocol; WebSocket clients dial with
/// <c>ws</c>.
/// </summary>
public sealed class WebSocketHybridProtocol : IProtocol
{
    private const string NotHybrid = "not a hybrid WebSocket protocol";

    private readonly FramingOptions _options;
    private readonly TcpProtocol _tcp;

    /// <summary>Creates the protocol; <paramref name="options"/> is validated and copied.</summary>
    public WebSocketHybridProtocol(FramingOptions? options = null)
    {
        _options = (options ?? new FramingOptions()).ValidatedCopy();
        _tcp = new TcpProtocol(_options);
    }

    /// <inheritdoc />
    public ValueTask<IFramedConnection> DialAsync(string protocol, string address, TimeSpan timeout, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(address);

        return Names(protocol) is { } names
            ? _tcp.DialAsync(names.Tcp, address, timeout, ct)
            : ValueTask.FromException<IFramedConnection>(DialAttempt.Failure(protocol, address, NotHybrid));
    }

    /// <inheritdoc />
    public ValueTask<ResolvedAddresses> ResolveAsync(string protocol, string address, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(address);

        // Reported as TCP: that is what a dial to the resolved address speaks.
        return Names(protocol) is { } names
            ? _tcp.ResolveAsync(names.Tcp, address, ct)
            : ValueTask.FromException<ResolvedAddresses>(TcpSockets.ResolveFailure(protocol, address, NotHybrid));
    }

    /// <inheritdoc />
    public async ValueTask<IProtocolListener> ListenAsync(string protocol, string address, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(address);

        if (Names(protocol) is not { } names)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"Cannot listen on \"{address}\": {protocol} is {NotHybrid}.");
        }

        Socket socket = await TcpSockets.ListenAsync(protocol, address, names.Family, _options.ListenBacklog, ct).ConfigureAwait(false);
        return new WebSocketListener(socket, protocol, _options, hybrid: true, webSocketProtocol: names.WebSocket, rawProtocol: names.Tcp);
    }

    private static (AddressFamily Family, string Tcp, string WebSocket)? Names(string protocol) => protocol switch
    {
        "wsh" => (AddressFamily.Unspecified, "tcp", "ws"),
        "wsh4" => (AddressFamily.InterNetwork, "tcp4", "ws4"),
        "wsh6" => (AddressFamily.InterNetworkV6, "tcp6", "ws6"),
        _ => null,
    };
}
