namespace FlowOrleans.Transport.Security;

/// <summary>The stock peer authorizers.</summary>
public static class PeerAuthorizers
{
    /// <summary>
    /// Accepts any peer that proved it holds its key (the handshake checks that), nameless ones included, and reports
    /// the peer's names that <paramref name="principal"/>'s roots recognise. Presents the principal's default blessings
    /// with the discharges it cached for them (<see cref="Principal.CacheDischarge"/>).
    /// </summary>
    public static IPeerAuthorizer AllowEveryone(Principal principal) => new PatternPeerAuthorizer(principal, patterns: null);

    /// <summary>
    /// Accepts a peer only if one of its valid blessing names (recognised root, caveats met, discharges present)
    /// matches one of <paramref name="patterns"/>; refuses it with <see cref="FlowErrorCode.NotTrusted"/> otherwise
    /// (a nameless peer always). Presents like <see cref="AllowEveryone"/>.
    /// </summary>
    public static IPeerAuthorizer RequireBlessings(Principal principal, params string[] patterns)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        return new PatternPeerAuthorizer(principal, patterns.Select(BlessingPattern.Parse).ToArray());
    }

    /// <summary>
    /// Whether <paramref name="authorizer"/> is one of <see cref="AllowEveryone"/>'s, which accepts every peer whatever
    /// its blessings: a caller that only needs the verdict (the connection cache, on every reuse) may skip asking it.
    /// </summary>
    internal static bool RefusesNoPeer(IPeerAuthorizer authorizer) => authorizer is PatternPeerAuthorizer { AcceptsEveryone: true };

    private sealed class PatternPeerAuthorizer(Principal principal, BlessingPattern[]? patterns) : IPeerAuthorizer
    {
        public bool AcceptsEveryone => patterns is null;

        public ValueTask<PeerAuthorization> AuthorizePeerAsync(PeerAuthorizationContext context, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(context);
            var result = BlessingValidator.Validate(context.RemoteBlessings, principal.Roots, new SecurityCall
            {
                Now = context.Now,
                RemoteDischarges = context.RemoteDischarges,
                RemotePublicKey = context.RemoteBlessings.PublicKey,
                LocalEndpoint = context.LocalEndpoint.ToString(),
                RemoteEndpoint = context.RemoteEndpoint.ToString(),
            });
            if (patterns is not null && !patterns.Any(p => p.MatchesAny(result.AcceptedNames)))
            {
                var why = result.Rejected.Count == 0
                    ? string.Empty
                    : " Rejected: " + string.Join("; ", result.Rejected.Select(r => $"{r.Name} ({r.Code}: {r.Reason})"));
                throw new FlowException(FlowErrorCode.NotTrusted,
                    $"The peer's valid blessings [{string.Join(", ", result.AcceptedNames)}] match none of " +
                    $"[{string.Join(", ", patterns.Select(p => p.Value))}].{why}");
            }

            return ValueTask.FromResult(new PeerAuthorization(result.AcceptedNames, result.Rejected));
        }

        public (Blessings Blessings, Discharges Discharges) BlessingsForPeer(IReadOnlyList<string> peerBlessingNames)
        {
            var blessings = principal.DefaultBlessings;
            return (blessings, principal.DischargesFor(blessings));
        }
    }
}
