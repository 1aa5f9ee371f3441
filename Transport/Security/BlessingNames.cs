namespace FlowOrleans.Transport.Security;

/// <summary>
/// The rules for blessing names (ARCHITECTURE.md, "Blessing names and patterns"). A name is its
/// chain's extensions joined by <see cref="ChainSeparator"/>; an extension is non-empty, is not
/// <c>$</c>, does not start or end with <c>:</c> and holds none of the reserved substrings.
/// </summary>
internal static class BlessingNames
{
    public const char ChainSeparator = ':';
    public const string AllPrincipals = "...";
    public const string NoExtension = "$";

    private static readonly string[] s_reservedSubstrings = ["...", "::", ",", "@@", "(", ")", "<", ">", "/"];

    /// <summary>Returns null when <paramref name="extension"/> is a valid extension, else why not.</summary>
    public static string? ExtensionError(ReadOnlySpan<char> extension)
    {
        if (extension.Length == 0)
        {
            return "an extension must not be empty";
        }

        if (extension.SequenceEqual(NoExtension))
        {
            return "an extension must not be \"$\"";
        }

        if (extension[0] == ChainSeparator || extension[^1] == ChainSeparator)
        {
            return "an extension must not start or end with ':'";
        }

        foreach (var reserved in s_reservedSubstrings)
        {
            if (extension.Contains(reserved, StringComparison.Ordinal))
            {
                return $"an extension must not contain \"{reserved}\"";
            }
        }

        return null;
    }

    public static bool IsValidExtension(ReadOnlySpan<char> extension) => ExtensionError(extension) is null;

    /// <summary>Throws <see cref="FlowErrorCode.BadArg"/> unless <paramref name="extension"/> is valid and within size limits.</summary>
    public static void ValidateExtension(string extension)
    {
        ArgumentNullException.ThrowIfNull(extension);
        if (ExtensionError(extension) is { } error)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"Invalid blessing extension \"{extension}\": {error}.");
        }

        if (SecurityWriter.Utf8Length(extension, "blessing extension") > SecurityLimits.MaxExtensionBytes)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"A blessing extension is limited to {SecurityLimits.MaxExtensionBytes} UTF-8 bytes.");
        }
    }
}
