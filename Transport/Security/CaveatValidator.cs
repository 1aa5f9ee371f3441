namespace FlowOrleans.Transport.Security;

/// <summary>
/// Checks caveats against a <see cref="SecurityCall"/>. Fails closed: unknown ids and malformed
/// parameters are never satisfied. Returns null when satisfied, else the reason.
/// </summary>
internal static class CaveatValidator
{
    public static string? Validate(Caveat caveat, SecurityCall call, int depth)
    {
        if (caveat.Id == Caveat.UnconstrainedId)
        {
            return caveat.ParameterSpan.IsEmpty ? null : "malformed unconstrained caveat";
        }

        if (caveat.Id == Caveat.ExpiryId)
        {
            if (!Caveat.TryReadExpiry(caveat.ParameterSpan, out var notAfter))
            {
                return "malformed expiry caveat";
            }

            return call.Now <= notAfter ? null : $"expired at {notAfter:O} (now {call.Now:O})";
        }

        if (caveat.Id == Caveat.MethodId)
        {
            if (!Caveat.TryReadMethods(caveat.ParameterSpan, out var methods))
            {
                return "malformed method caveat";
            }

            return call.Method is not null && Array.IndexOf(methods, call.Method) >= 0
                ? null
                : $"method \"{call.Method}\" is not one of [{string.Join(", ", methods)}]";
        }

        if (caveat.Id == Caveat.ThirdPartyId)
        {
            return ValidateThirdParty(caveat, call, depth);
        }

        return $"unknown caveat {caveat.Id}";
    }

    public static string? ValidateAll(ReadOnlySpan<Caveat> caveats, SecurityCall call, int depth)
    {
        foreach (var caveat in caveats)
        {
            if (Validate(caveat, call, depth) is { } error)
            {
                return error;
            }
        }

        return null;
    }

    private static string? ValidateThirdParty(Caveat caveat, SecurityCall call, int depth)
    {
        if (!ThirdPartyCaveat.TryFromCaveat(caveat, out var thirdParty))
        {
            return "malformed third-party caveat";
        }

        if (!call.RemoteDischarges.TryGetValue(thirdParty.DischargeId, out var discharge))
        {
            return $"missing discharge for third-party caveat {thirdParty.DischargeId}";
        }

        if (!discharge.IsSignedBy(thirdParty.Discharger))
        {
            return $"the discharge for {thirdParty.DischargeId} is not signed by the discharger";
        }

        // A discharge may itself carry third-party caveats, and dischargers can build cycles.
        if (depth >= SecurityLimits.MaxCaveatNestingDepth)
        {
            return "third-party caveats nested too deeply";
        }

        foreach (var restriction in discharge.Caveats)
        {
            if (Validate(restriction, call, depth + 1) is { } error)
            {
                return $"the discharge for {thirdParty.DischargeId} is not valid: {error}";
            }
        }

        return null;
    }
}
