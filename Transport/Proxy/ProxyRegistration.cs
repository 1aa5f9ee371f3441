using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.Transport.Proxy;

/// <summary>
/// A server registered at the proxy: the connection it dialed in on (flows to it are opened there) and the control
/// flow it registered on, whose end ends the registration.
/// </summary>
internal sealed class ProxyRegistration(RoutingId server, ManagedConnection connection, FlowFramedConnection control)
{
    public RoutingId Server { get; } = server;

    public ManagedConnection Connection { get; } = connection;

    public FlowFramedConnection Control { get; } = control;
}
