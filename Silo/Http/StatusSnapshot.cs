using System.Text.Json;
using System.Text.Json.Serialization;
using FlowOrleans.GrainInterfaces;

namespace FlowOrleans.Silo.Http;

/// <summary>
/// What <c>/status.json</c> returns: every active silo's transport (listeners, connections, open flows, the pins it
/// holds) and every pin of the cluster as its grain records it. Endpoints in their printed form, times in milliseconds,
/// so the status page (and scripts) need no knowledge of the grain types.
/// </summary>
internal sealed record StatusSnapshot(DateTimeOffset Time, string ThisSilo, IReadOnlyList<SiloSnapshot> Silos, IReadOnlyList<PinSnapshot> Pins)
{
    public static StatusSnapshot From(string thisSilo, IReadOnlyList<SiloFlowStatus> silos, IReadOnlyList<PinState> pins, DateTimeOffset time) => new(
        time,
        thisSilo,
        silos.OrderBy(s => s.SiloKey, StringComparer.Ordinal).Select(SiloSnapshot.From).ToArray(),
        pins.OrderBy(p => p.Name, StringComparer.Ordinal).Select(PinSnapshot.From).ToArray());
}

/// <summary>One silo's transport in <see cref="StatusSnapshot"/>.</summary>
internal sealed record SiloSnapshot(
    string SiloKey,
    string RoutingId,
    IReadOnlyList<string> Listeners,
    int OpenFlows,
    IReadOnlyList<ConnectionSnapshot> Connections,
    IReadOnlyList<HeldPinSnapshot> Pins)
{
    public static SiloSnapshot From(SiloFlowStatus status) => new(
        status.SiloKey,
        status.RoutingId.ToString(),
        status.Endpoints.Select(e => e.ToString()).ToArray(),
        status.OpenFlows,
        status.Connections.Select(c => new ConnectionSnapshot(c.RemoteEndpoint.ToString(), c.RemoteBlessingNames, c.Rtt.TotalMilliseconds, c.OpenFlows, c.Age.TotalSeconds)).ToArray(),
        status.Pins.Select(p => new HeldPinSnapshot(p.Name, p.Endpoint.ToString(), p.RemoteEndpoint.ToString(), p.Reconnects, p.Rtt.TotalMilliseconds)).ToArray());
}

/// <summary>One cached connection of a silo's flow manager.</summary>
internal sealed record ConnectionSnapshot(string RemoteEndpoint, IReadOnlyList<string> RemoteBlessings, double RttMs, long OpenFlows, double AgeSeconds);

/// <summary>A pin as the silo holding it sees it: the live connection behind it.</summary>
internal sealed record HeldPinSnapshot(string Name, string Endpoint, string RemoteEndpoint, int Reconnects, double RttMs);

/// <summary>A pin as its grain records it: desired endpoint, owner silo, state.</summary>
internal sealed record PinSnapshot(string Name, string? Endpoint, string? OwnerSilo, string Status, int Reconnects, int Moves, string? LastError, DateTimeOffset UpdatedAt)
{
    public static PinSnapshot From(PinState pin) => new(
        pin.Name, pin.Request?.Endpoint.ToString(), pin.OwnerSilo, pin.Status.ToString(), pin.Reconnects, pin.Moves, pin.LastError, pin.UpdatedAt);
}

/// <summary>Source-generated JSON for the snapshot, camelCase as the page's script reads it.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(StatusSnapshot))]
[JsonSerializable(typeof(StatusError))]
internal sealed partial class StatusJsonContext : JsonSerializerContext;

/// <summary>The body of a failed <c>/status.json</c>: the cluster did not answer in time or failed.</summary>
internal sealed record StatusError(string Error);
