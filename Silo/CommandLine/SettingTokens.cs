namespace FlowOrleans.Silo.CommandLine;

/// <summary>
/// The command line's settings, as the configuration's command-line source reads them: <c>--Section:Key=value</c> or
/// <c>--Section:Key value</c>. Every setting the silo reads is in a section (<c>Silo</c>, <c>FlowOrleans</c>,
/// <c>Logging</c>), so a token without one is a typo (<c>--hlep</c>), refused rather than silently ignored.
/// </summary>
internal static class SettingTokens
{
    /// <summary>The first token that is not part of a setting; null if all are.</summary>
    public static string? FirstStray(IReadOnlyList<string> tokens)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (!token.StartsWith("--", StringComparison.Ordinal))
            {
                return token;
            }

            var equals = token.IndexOf('=', StringComparison.Ordinal);
            var key = equals < 0 ? token[2..] : token[2..equals];
            if (!key.Contains(':', StringComparison.Ordinal) || key.StartsWith(':') || key.EndsWith(':'))
            {
                return token;
            }

            if (equals < 0)
            {
                // The value is the next token.
                if (++i == tokens.Count)
                {
                    return token;
                }
            }
        }

        return null;
    }
}
