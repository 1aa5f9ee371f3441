using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FlowOrleans.Transport.Proxy;

/// <summary>Settings of a <see cref="ProxyServer"/>; <see cref="Validate"/> runs when the proxy is built.</summary>
public sealed class ProxyServerOptions
{
    /// <summary>The proxy's identity, shown to servers and clients on the hop to the proxy. Default: a new in-memory principal blessed as <c>proxy</c>.</summary>
    public Principal? Principal { get; set; }

    /// <summary>The proxy's routing ID; published as the route of every proxied endpoint. Default: a new random one.</summary>
    public RoutingId? RoutingId { get; set; }

    /// <summary>
    /// Decides which servers may register (judged on the blessings they presented on their connection to the proxy);
    /// a refusal is answered with a ProxyErrorResponse. Default: every server that completed the handshake.
    /// </summary>
    public IPeerAuthorizer? ServerAuthorizer { get; set; }

    /// <summary>Protocols to listen with. Default: <see cref="ProtocolRegistry.Default"/>.</summary>
    public ProtocolRegistry? Protocols { get; set; }

    /// <summary>Tuning of the proxy's connections to servers and clients; they run on the proxy's <see cref="TimeProvider"/>.</summary>
    public ConnectionOptions Connection { get; set; } = new();

    /// <summary>
    /// The proxy's one clock, the same rule as <see cref="FlowManagerOptions.TimeProvider"/>: the first-message
    /// timeout, the time servers are authorized at and every connection of the proxy run on it. Default
    /// <see cref="TimeProvider.System"/>; left at the default, the clock is <see cref="Connection"/>'s
    /// <see cref="ConnectionOptions.TimeProvider"/>. Setting the two to different clocks is invalid.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>A flow that has not said what it wants (register, or reach a server) by then is closed. Default 10 s.</summary>
    public TimeSpan FirstMessageTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Connections the proxy keeps before evicting idle ones (registered servers are never idle). Default 4096.</summary>
    public int MaxCachedConnections { get; set; } = 4096;

    /// <summary>Creates the proxy's logger. Default: no logging.</summary>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;

    /// <summary>The clock the proxy and its connections run on (see <see cref="TimeProvider"/>); null when the settings disagree.</summary>
    internal TimeProvider? Clock => Connection.ClockOf(TimeProvider);

    /// <summary>Throws <see cref="FlowException"/> with <see cref="FlowErrorCode.BadArg"/> naming the first bad setting.</summary>
    public void Validate()
    {
        Check(Connection is not null, "Connection is required");
        Connection!.Validate();
        Check(TimeProvider is not null, "TimeProvider is required");
        Check(Clock is not null, "TimeProvider and Connection.TimeProvider name two different clocks; set one of them");
        Check(RoutingId is not { IsNull: true }, "RoutingId must not be the null routing ID: a proxy must be reachable");
        Check(FirstMessageTimeout > TimeSpan.Zero, "FirstMessageTimeout must be positive");
        Check(MaxCachedConnections >= 1, "MaxCachedConnections must be positive");
        Check(LoggerFactory is not null, "LoggerFactory is required");
    }

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new FlowException(FlowErrorCode.BadArg, "Invalid ProxyServerOptions: " + message + ".");
        }
    }
}
