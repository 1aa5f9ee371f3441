namespace FlowOrleans.Cli.Transport;

/// <summary>Who answered a dial: its endpoint, routing ID and blessing names.</summary>
internal sealed record PeerInfo(string Endpoint, string RoutingId, IReadOnlyList<string> Blessings)
{
    /// <summary>
    /// The peer's names for a line of text. A silo reports only the names its roots recognise, so a peer blessed by
    /// nobody it trusts (a self-blessed echo server) has none.
    /// </summary>
    public string Names => NamesOf(Blessings);

    /// <summary>See <see cref="Names"/>.</summary>
    public static string NamesOf(IReadOnlyList<string> blessings) => blessings.Count == 0 ? "(no recognised blessings)" : string.Join(",", blessings);
}
