namespace FlowOrleans.Transport.Endpoints;

/// <summary>
/// The shape check Vanadium applies to the short <c>host:port</c> endpoint form (Go's
/// <c>net.SplitHostPort</c>): the port follows the last colon, and an IPv6 host must be bracketed.
/// Neither the host nor the port is validated further (an empty host or port is allowed).
/// </summary>
internal static class HostPort
{
    /// <summary>Returns null when <paramref name="hostPort"/> has a valid shape, else what is wrong with it.</summary>
    public static string? Validate(ReadOnlySpan<char> hostPort)
    {
        var lastColon = hostPort.LastIndexOf(':');
        if (lastColon < 0)
        {
            return "missing port";
        }

        // Positions before which a '[' or ']' may legitimately appear.
        int openLimit = 0, closeLimit = 0;
        if (hostPort[0] == '[')
        {
            var close = hostPort.IndexOf(']');
            if (close < 0)
            {
                return "missing ']'";
            }

            if (close + 1 != lastColon)
            {
                // Either nothing follows ']', or ']' is followed by something other than the last colon.
                return close + 1 < hostPort.Length && hostPort[close + 1] == ':' ? "too many colons" : "missing port";
            }

            openLimit = 1;
            closeLimit = close + 1;
        }
        else if (hostPort[..lastColon].Contains(':'))
        {
            return "too many colons (bracket an IPv6 host)";
        }

        if (hostPort[openLimit..].Contains('['))
        {
            return "unexpected '['";
        }

        if (hostPort[closeLimit..].Contains(']'))
        {
            return "unexpected ']'";
        }

        return null;
    }
}
