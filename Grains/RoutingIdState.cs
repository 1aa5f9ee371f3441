using FlowOrleans.GrainInterfaces;

namespace FlowOrleans.Grains;

/// <summary>Persistent state of a <see cref="RoutingIdGrain"/>: registrations by silo key and peer key.</summary>
[GenerateSerializer, Alias("FlowOrleans.RoutingIdState")]
internal sealed class RoutingIdState
{
    [Id(0)]
    public Dictionary<string, RoutingIdRegistration> Registrations { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The dictionary key of a registration. Registrations stored before keys were recorded are keyed by silo alone,
    /// which is this key for an empty peer key, so they are found and replaced as before.
    /// </summary>
    public static string KeyOf(string siloKey, string peerKey) => peerKey.Length == 0 ? siloKey : siloKey + " " + peerKey;
}
