using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FlowOrleans.Transport.Protocols.Sockets;

/// <summary>
/// Parsing, resolution and printing of TCP addresses as Go writes them: <c>host:port</c>, <c>[v6]:port</c>,
/// <c>:port</c> (no host). The protocol picks the family: <c>tcp</c> any, <c>tcp4</c> IPv4, <c>tcp6</c> IPv6.
/// </summary>
internal static class TcpAddress
{
    /// <summary>The address family a TCP protocol name allows, or null for a name that is not TCP.</summary>
    public static AddressFamily? FamilyOf(string protocol) => protocol switch
    {
        "tcp" => AddressFamily.Unspecified,
        "tcp4" => AddressFamily.InterNetwork,
        "tcp6" => AddressFamily.InterNetworkV6,
        _ => null,
    };

    /// <summary>Splits an address into host (possibly empty, brackets removed) and port; false when malformed.</summary>
    public static bool TryParse(string address, out string host, out int port)
    {
        host = string.Empty;
        port = 0;
        int colon = address.LastIndexOf(':');
        if (colon < 0 ||
            !int.TryParse(address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) ||
            port > IPEndPoint.MaxPort)
        {
            return false;
        }

        string hostPart = address[..colon];
        if (hostPart.StartsWith('['))
        {
            // Brackets are only for IPv6 literals, which need them because of their colons.
            if (!hostPart.EndsWith(']') ||
                !IPAddress.TryParse(hostPart.AsSpan(1, hostPart.Length - 2), out IPAddress? literal) ||
                literal.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return false;
            }

            host = hostPart[1..^1];
            return true;
        }

        if (hostPart.Contains(':', StringComparison.Ordinal) || hostPart.Any(char.IsWhiteSpace))
        {
            return false;
        }

        host = hostPart;
        return true;
    }

    /// <summary>Whether an address belongs to the family a protocol allows.</summary>
    public static bool Allows(AddressFamily family, IPAddress address) =>
        family == AddressFamily.Unspecified || address.AddressFamily == family;

    /// <summary>
    /// The addresses a host stands for, in resolver order, filtered by family. A literal is its own answer and
    /// costs no lookup. Throws <see cref="SocketException"/> when nothing fits.
    /// </summary>
    public static async ValueTask<IPAddress[]> ResolveAsync(string host, AddressFamily family, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out IPAddress? literal))
        {
            return Allows(family, literal)
                ? [literal]
                : throw new SocketException((int)SocketError.AddressFamilyNotSupported);
        }

        IPAddress[] found = await Dns.GetHostAddressesAsync(host, family, cancellationToken).ConfigureAwait(false);
        IPAddress[] allowed = found.Where(a => Allows(family, a)).Distinct().ToArray();
        return allowed.Length > 0 ? allowed : throw new SocketException((int)SocketError.HostNotFound);
    }

    /// <summary>Prints an endpoint so it parses back: <c>1.2.3.4:80</c>, <c>[::1]:80</c>.</summary>
    public static string Format(IPEndPoint endPoint)
    {
        IPAddress address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        return new IPEndPoint(address, endPoint.Port).ToString();
    }
}
