namespace FlowOrleans.Cli.Transport;

/// <summary>Who answered a dial: its endpoint, routing ID and blessing names.</summary>
internal sealed record PeerInfo(string Endpoint, string RoutingId, IReadOnlyList<string> Blessings);
