using FlowOrleans.GrainInterfaces;

namespace FlowOrleans.Cli.Cluster;

/// <summary>One silo's transport as <c>cluster status</c> prints it (round-trip times in milliseconds, ages in seconds, for scripts).</summary>
internal sealed record SiloView(
    string SiloKey, string RoutingId, int OpenFlows, IReadOnlyList<string> Endpoints, IReadOnlyList<ConnectionView> Connections, IReadOnlyList<SiloPinView> Pins)
{
    public static SiloView From(SiloFlowStatus status) => new(
        status.SiloKey,
        status.RoutingId.ToString(),
        status.OpenFlows,
        status.Endpoints.Select(e => e.ToString()).ToArray(),
        status.Connections.Select(c => new ConnectionView(c.RemoteEndpoint.ToString(), c.RemoteBlessingNames, c.Rtt.TotalMilliseconds, c.OpenFlows, c.Age.TotalSeconds)).ToArray(),
        status.Pins.Select(p => new SiloPinView(p.Name, p.Endpoint.ToString(), p.RemoteEndpoint.ToString(), p.Reconnects, p.Rtt.TotalMilliseconds)).ToArray());
}

internal sealed record ConnectionView(string RemoteEndpoint, IReadOnlyList<string> RemoteBlessings, double RttMs, long OpenFlows, double AgeSeconds);

/// <summary>A pin as the silo holding it sees it.</summary>
internal sealed record SiloPinView(string Name, string Endpoint, string RemoteEndpoint, int Reconnects, double RttMs);

/// <summary>A pin as the cluster records it: what is wanted, which silo holds it, and how it stands.</summary>
internal sealed record PinView(
    string Name, string? Endpoint, IReadOnlyList<string> BlessingPatterns, string? OwnerSilo, PinStatus Status, string? LastError, int Reconnects, int Moves, DateTimeOffset UpdatedAt)
{
    public static PinView From(PinState pin) => new(
        pin.Name, pin.Request?.Endpoint.ToString(), pin.Request?.BlessingPatterns ?? [], pin.OwnerSilo, pin.Status, pin.LastError, pin.Reconnects, pin.Moves, pin.UpdatedAt);
}
