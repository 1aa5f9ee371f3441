namespace FlowOrleans.Transport.Security;

/// <summary>
/// How long a verdict on a peer holds by the clock alone. An authorizer judges blessings at one instant; a connection
/// lives on, so it keeps the verdict only until the first expiry caveat on the chains of the names the peer was
/// accepted under, or on the discharges of those chains' third-party caveats, passes.
/// </summary>
internal static class BlessingExpiry
{
    /// <summary>
    /// The earliest time at which one of <paramref name="names"/> stops validating because of an expiry; null when none
    /// of them can expire (or the list is empty: a peer accepted under no name loses nothing when time passes).
    /// </summary>
    public static DateTimeOffset? Of(Blessings blessings, Discharges discharges, IReadOnlyCollection<string> names)
    {
        ArgumentNullException.ThrowIfNull(blessings);
        ArgumentNullException.ThrowIfNull(discharges);
        ArgumentNullException.ThrowIfNull(names);
        DateTimeOffset? earliest = null;
        if (names.Count == 0)
        {
            return earliest;
        }

        var chains = blessings.ChainSpan;
        for (var i = 0; i < chains.Length; i++)
        {
            if (!names.Contains(blessings.Names[i]))
            {
                continue;
            }

            foreach (var certificate in chains[i])
            {
                earliest = Min(earliest, Of(certificate.CaveatSpan, discharges, depth: 0));
            }
        }

        return earliest;
    }

    private static DateTimeOffset? Of(ReadOnlySpan<Caveat> caveats, Discharges discharges, int depth)
    {
        DateTimeOffset? earliest = null;
        foreach (var caveat in caveats)
        {
            if (caveat.ExpiryTime is { } time)
            {
                earliest = Min(earliest, time);
            }
            else if (depth < SecurityLimits.MaxCaveatNestingDepth
                && ThirdPartyCaveat.TryFromCaveat(caveat, out var thirdParty)
                && discharges.TryGetValue(thirdParty.DischargeId, out var discharge))
            {
                // The discharge's own restrictions bound the caveat it discharges, nested ones included.
                earliest = Min(earliest, Of([.. discharge.Caveats], discharges, depth + 1));
            }
        }

        return earliest;
    }

    private static DateTimeOffset? Min(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null || a <= b ? a : b;
}
