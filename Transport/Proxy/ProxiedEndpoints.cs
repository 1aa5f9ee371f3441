using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.Transport.Proxy;

/// <summary>
/// The shape of endpoints a proxy publishes for the servers behind it: the proxy's protocol and address, the
/// server's routing ID, and exactly one route, the proxy's own routing ID. The route tells a dialer to reach the
/// proxy first (and which proxy it must be) and to run the real handshake with the server inside a flow.
/// </summary>
internal static class ProxiedEndpoints
{
    /// <summary>The endpoint at which the proxy listening on <paramref name="proxyListen"/> serves <paramref name="server"/>.</summary>
    public static Endpoint Publish(Endpoint proxyListen, RoutingId proxy, RoutingId server) =>
        proxyListen.WithRoutingId(server).WithRoutes([proxy.ToString()]).WithBlessingNames([]);

    /// <summary>True when <paramref name="endpoint"/> is reached through a proxy.</summary>
    public static bool IsProxied(Endpoint endpoint) => endpoint.Routes.Count > 0;

    /// <summary>The proxy to dial for <paramref name="proxied"/>: its address, and the proxy's routing ID from the route.</summary>
    /// <exception cref="FlowException"><see cref="FlowErrorCode.BadArg"/> for routes this implementation cannot follow.</exception>
    public static Endpoint Hop(Endpoint proxied)
    {
        if (proxied.Routes.Count != 1 || !RoutingId.TryParse(proxied.Routes[0], out var proxy) || proxy.IsNull)
        {
            throw new FlowException(FlowErrorCode.BadArg,
                $"Endpoint {proxied} has routes [{string.Join(", ", proxied.Routes)}]; only one route, a proxy's routing ID, is supported.");
        }

        if (proxied.IsAddressless || proxied.RoutingId.IsNull)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"Proxied endpoint {proxied} needs the proxy's address and the server's routing ID.");
        }

        return Endpoint.Create(proxied.Protocol, proxied.Address, proxy);
    }
}
