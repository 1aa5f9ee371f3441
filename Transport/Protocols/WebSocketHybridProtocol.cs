using System.Net.Sockets;
using FlowOrleans.Transport.Protocols.Sockets;
using FlowOrleans.Transport.Protocols.WebSockets;

namespace FlowOrleans.Transport.Protocols;

/// <summary>
/// The <c>wsh</c>, <c>wsh4</c> and <c>wsh6</c> protocols: one listening TCP port that serves both raw framed TCP
/// clients and WebSocket clients, told apart by their first bytes (<c>"GET "</c> means WebSocket). Dialing and
/// resolving use plain TCP, as Vanadium's hybrid protocol does; WebSocket clients dial with <c>ws</c>.
/// </summary>
public sealed class WebSocketHybridProtocol : IProtocol
{
    private readonly FramingOptions _options;

    /// <summary>Creates the protocol; <paramref name="options"/> is validated and copied.</summary>
    public WebSocketHybridProtocol(FramingOptions? options = null)
    {
        _options = (options ?? new FramingOptions()).ValidatedCopy();
    }

    /// <inheritdoc />
    public async ValueTask<IFramedConnection> DialAsync(string protocol, string address, TimeSpan timeout, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(address);

        using var attempt = new DialAttempt(protocol, address, timeout, ct);
        try
        {
            if (Names(protocol) is not { } names)
            {
                throw attempt.Failure("not a hybrid WebSocket protocol");
            }

            if (!TcpAddress.TryParse(address, out string host, out int port))
            {
                throw attempt.Failure("malformed address, expected host:port or [v6]:port");
            }

            Socket socket = await TcpSockets.ConnectAsync(host, port, names.Family, attempt.Token).ConfigureAwait(false);
            return SocketConnections.Frame(socket, names.Tcp, _options);
        }
        catch (Exception e)
        {
            throw attempt.Failure(e);
        }
    }

    /// <inheritdoc />
    public async ValueTask<ResolvedAddresses> ResolveAsync(string protocol, string address, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(address);

        if (Names(protocol) is not { } names)
        {
            throw TcpSockets.ResolveFailure(protocol, address, "not a hybrid WebSocket protocol");
        }

        // Reported as TCP: that is what a dial to the resolved address speaks.
        return new ResolvedAddresses(names.Tcp, await TcpSockets.ResolveAsync(protocol, address, names.Family, ct).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async ValueTask<IProtocolListener> ListenAsync(string protocol, string address, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(address);

        if (Names(protocol) is not { } names)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"Cannot listen on \"{address}\": {protocol} is not a hybrid WebSocket protocol.");
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
