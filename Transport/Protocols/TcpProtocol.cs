using System.Net;
using System.Net.Sockets;
using FlowOrleans.Transport.Protocols.Sockets;

namespace FlowOrleans.Transport.Protocols;

/// <summary>
/// The <c>tcp</c>, <c>tcp4</c> and <c>tcp6</c> protocols. Addresses are <c>host:port</c>, <c>[v6]:port</c> or
/// <c>:port</c>; port 0 listens on an ephemeral port; host names are resolved with DNS and filtered by the
/// protocol's family. Connections use Nagle-free, keep-alive sockets.
/// </summary>
public sealed class TcpProtocol : IProtocol
{
    private readonly FramingOptions _options;
    private readonly TcpDialer _dialer;

    /// <summary>Creates the protocol; <paramref name="options"/> is validated and copied.</summary>
    public TcpProtocol(FramingOptions? options = null)
    {
        _options = (options ?? new FramingOptions()).ValidatedCopy();
        _dialer = new TcpDialer(_options, TcpAddress.FamilyOf, "TCP");
    }

    /// <inheritdoc />
    public ValueTask<IFramedConnection> DialAsync(string protocol, string address, TimeSpan timeout, CancellationToken ct = default) =>
        _dialer.DialAsync(protocol, address, timeout, ct);

    /// <inheritdoc />
    public async ValueTask<ResolvedAddresses> ResolveAsync(string protocol, string address, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(address);

        if (TcpAddress.FamilyOf(protocol) is not { } family)
        {
            throw TcpSockets.ResolveFailure(protocol, address, "not a TCP protocol");
        }

        return new ResolvedAddresses(protocol, await TcpSockets.ResolveAsync(protocol, address, family, ct).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async ValueTask<IProtocolListener> ListenAsync(string protocol, string address, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(address);

        if (TcpAddress.FamilyOf(protocol) is not { } family)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"Cannot listen on \"{address}\": {protocol} is not a TCP protocol.");
        }

        Socket socket = await TcpSockets.ListenAsync(protocol, address, family, _options.ListenBacklog, ct).ConfigureAwait(false);
        string bound = TcpAddress.Format((IPEndPoint)socket.LocalEndPoint!);
        return new SocketListener(socket, protocol, bound, _options, SocketConnections.ConfigureTcp);
    }
}
