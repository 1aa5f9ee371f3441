namespace FlowOrleans.Transport.Security;

/// <summary>
/// Decides which of a peer's blessing names it may use in a call. A name is accepted when every
/// link of the blessings is correctly signed, the chain's root is recognised for that name, and every
/// caveat on the chain is met.
/// </summary>
public static class BlessingValidator
{
    public static BlessingValidationResult Validate(Blessings blessings, BlessingRoots roots, SecurityCall call)
    {
        ArgumentNullException.ThrowIfNull(blessings);
        ArgumentNullException.ThrowIfNull(roots);
        ArgumentNullException.ThrowIfNull(call);

        if (blessings.IsEmpty)
        {
            return new BlessingValidationResult([], []);
        }

        // A forgery anywhere taints the whole object: the peer sent something it could not have
        // obtained honestly, so none of its names count.
        var authError = call.RemotePublicKey is { } expected && !expected.Equals(blessings.PublicKey)
            ? "the blessings are bound to a different key than the peer proved it holds"
            : blessings.SignatureError;
        if (authError is not null)
        {
            var forged = blessings.Names.Select(name => new RejectedBlessing(name, FlowErrorCode.Auth, authError)).ToArray();
            return new BlessingValidationResult([], forged);
        }

        var accepted = new List<string>();
        var rejected = new List<RejectedBlessing>();
        var chains = blessings.ChainSpan;
        for (var i = 0; i < chains.Length; i++)
        {
            var chain = chains[i];
            var name = blessings.Names[i];
            if (!roots.IsRecognized(chain[0].PublicKey, name))
            {
                rejected.Add(new RejectedBlessing(name, FlowErrorCode.NotTrusted, $"the root of \"{name}\" is not recognised for that name"));
                continue;
            }

            var caveatError = ValidateChainCaveats(chain, call);
            if (caveatError is not null)
            {
                rejected.Add(new RejectedBlessing(name, FlowErrorCode.NotTrusted, caveatError));
                continue;
            }

            accepted.Add(name);
        }

        return new BlessingValidationResult(accepted.AsReadOnly(), rejected.AsReadOnly());
    }

    /// <summary>
    /// Like <see cref="Validate"/>, but throws unless at least one name is accepted:
    /// <see cref="FlowErrorCode.Auth"/> for a forgery, otherwise <see cref="FlowErrorCode.NotTrusted"/>.
    /// </summary>
    public static BlessingValidationResult ValidateOrThrow(Blessings blessings, BlessingRoots roots, SecurityCall call)
    {
        var result = Validate(blessings, roots, call);
        if (result.AcceptedNames.Count > 0)
        {
            return result;
        }

        if (result.Rejected.FirstOrDefault(r => r.Code == FlowErrorCode.Auth) is { } forged)
        {
            throw new FlowException(FlowErrorCode.Auth, $"Blessings \"{forged.Name}\" failed authentication: {forged.Reason}.");
        }

        if (result.Rejected.Count == 0)
        {
            throw new FlowException(FlowErrorCode.NotTrusted, blessings.IsNameless
                ? "The peer presented only its public key, no blessing names."
                : "No blessings were presented.");
        }

        var reasons = string.Join("; ", result.Rejected.Select(r => $"\"{r.Name}\": {r.Reason}"));
        throw new FlowException(FlowErrorCode.NotTrusted, $"No blessing name is trusted: {reasons}.");
    }

    private static string? ValidateChainCaveats(Certificate[] chain, SecurityCall call)
    {
        foreach (var certificate in chain)
        {
            if (CaveatValidator.ValidateAll(certificate.CaveatSpan, call, depth: 0) is { } error)
            {
                return $"caveat on \"{certificate.Extension}\" not met: {error}";
            }
        }

        return null;
    }
}
