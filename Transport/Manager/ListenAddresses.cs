using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace FlowOrleans.Transport.Manager;

/// <summary>
/// The addresses a listener is reachable at. A listener bound to an unspecified host (<c>0.0.0.0</c>, <c>[::]</c>)
/// accepts on every interface, but an endpoint naming that host cannot be dialed, so the manager publishes one
/// endpoint per usable interface address instead (on Kubernetes: the pod IP). Loopback addresses come last, and only
/// when nothing else is up, as with Vanadium's default address choice.
/// </summary>
internal static class ListenAddresses
{
    private static readonly HashSet<string> IpProtocols = new(StringComparer.Ordinal) { "tcp", "tcp4", "tcp6", "ws", "wsh" };

    /// <summary>The addresses to publish for <paramref name="boundAddress"/>, the address the protocol listener reports.</summary>
    public static IReadOnlyList<string> Publish(string protocol, string boundAddress, Func<IReadOnlyList<IPAddress>> interfaceAddresses)
    {
        if (!IpProtocols.Contains(protocol)
            || !IPEndPoint.TryParse(boundAddress, out var bound)
            || !(bound.Address.Equals(IPAddress.Any) || bound.Address.Equals(IPAddress.IPv6Any)))
        {
            return [boundAddress];
        }

        // [::] on a dual-stack socket accepts IPv4 too; 0.0.0.0 only IPv4.
        var families = bound.Address.Equals(IPAddress.Any) || protocol == "tcp4"
            ? new[] { AddressFamily.InterNetwork }
            : protocol == "tcp6" ? [AddressFamily.InterNetworkV6] : [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6];
        var usable = interfaceAddresses()
            .Where(a => families.Contains(a.AddressFamily) && !a.IsIPv6LinkLocal && !a.IsIPv6Multicast)
            .Distinct()
            .ToArray();
        var chosen = usable.Where(a => !IPAddress.IsLoopback(a)).ToArray();
        if (chosen.Length == 0)
        {
            chosen = usable;
        }

        return chosen.Length == 0 ? [boundAddress] : chosen.Select(a => new IPEndPoint(a, bound.Port).ToString()).ToArray();
    }

    /// <summary>Unicast addresses of the interfaces that are up.</summary>
    public static IReadOnlyList<IPAddress> OfThisHost() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(u => u.Address)
            .ToArray();
}
