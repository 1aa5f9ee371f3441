using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;

namespace FlowOrleans.Transport.Protocols.Sockets;

/// <summary>
/// Dials TCP addresses (<c>host:port</c>, <c>[v6]:port</c>, <c>:port</c>) for the protocols that run over TCP: the
/// protocol name decides the address family, and the first address of the host that answers is used.
/// </summary>
internal class TcpDialer : SocketDialer<TcpDialer.Target>
{
    private readonly Func<string, AddressFamily?> _familyOf;
    private readonly string _notServed;

    /// <param name="options">The protocol's validated framing options.</param>
    /// <param name="familyOf">The address family a protocol name allows, or null for a name this dialer does not serve.</param>
    /// <param name="kind">What the protocols are called in errors, e.g. <c>TCP</c>.</param>
    public TcpDialer(FramingOptions options, Func<string, AddressFamily?> familyOf, string kind)
        : base(options)
    {
        _familyOf = familyOf;
        _notServed = $"not a {kind} protocol";
    }

    /// <summary>A parsed TCP address: an empty host means this machine.</summary>
    internal readonly record struct Target(string Host, int Port, AddressFamily Family);

    protected override bool TryParse(string protocol, string address, out Target target, [NotNullWhen(false)] out string? problem)
    {
        target = default;
        if (_familyOf(protocol) is not { } family)
        {
            problem = _notServed;
            return false;
        }

        if (!TcpAddress.TryParse(address, out string host, out int port))
        {
            problem = "malformed address, expected host:port or [v6]:port";
            return false;
        }

        target = new Target(host, port, family);
        problem = null;
        return true;
    }

    protected override ValueTask<Socket> ConnectAsync(Target target, CancellationToken cancellationToken) =>
        TcpSockets.ConnectAsync(target.Host, target.Port, target.Family, cancellationToken);
}
