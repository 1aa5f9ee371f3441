using System.CommandLine.Parsing;
using System.Globalization;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Cli.CommandLine;

/// <summary>
/// Parsers for the values flowctl takes. Each refuses a bad value at parse time with one line naming the option or
/// argument, the value and what is expected, so every verb sees only well-formed values.
/// </summary>
internal static class ValueParsers
{
    private static readonly (string Suffix, long Factor)[] s_sizeSuffixes =
    [
        ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("KB", 1000), ("MB", 1000_000), ("GB", 1000_000_000),
        ("K", 1L << 10), ("M", 1L << 20), ("G", 1L << 30), ("B", 1),
    ];

    private static readonly (string Suffix, TimeSpan Unit)[] s_durationSuffixes =
    [
        ("ms", TimeSpan.FromMilliseconds(1)), ("s", TimeSpan.FromSeconds(1)), ("m", TimeSpan.FromMinutes(1)),
        ("h", TimeSpan.FromHours(1)), ("d", TimeSpan.FromDays(1)),
    ];

    public static Endpoint ParseEndpoint(ArgumentResult result) => Single(result, text =>
        Endpoint.TryParse(text, out var endpoint) && (endpoint.Protocol.Length == 0 || ProtocolRegistry.Default.TryGet(endpoint.Protocol, out _, out _))
            ? endpoint
            : Fail<Endpoint>(result, text, "an endpoint as a listener prints it (@6@tcp@127.0.0.1:8100@@...@@) or host:port, with a protocol of " + Protocols));

    private static string Protocols => string.Join(", ", ProtocolRegistry.Default.RegisteredProtocols.Where(p => p.Length > 0));

    public static List<ListenAddress> ParseListenAddresses(ArgumentResult result)
    {
        var addresses = new List<ListenAddress>();
        foreach (var token in result.Tokens)
        {
            if (!ListenAddress.TryParse(token.Value, out var address) || !ProtocolRegistry.Default.TryGet(address.Protocol, out _, out _))
            {
                return Fail<List<ListenAddress>>(result, token.Value,
                    $"PROTOCOL/ADDRESS such as tcp/127.0.0.1:8100, with PROTOCOL one of {Protocols}");
            }

            addresses.Add(address);
        }

        return addresses;
    }

    public static List<string> ParseBlessingPatterns(ArgumentResult result)
    {
        var patterns = new List<string>();
        foreach (var token in result.Tokens)
        {
            if (!BlessingPattern.TryParse(token.Value, out _))
            {
                return Fail<List<string>>(result, token.Value, "a blessing pattern such as root:alice, root:alice:$ or ...");
            }

            patterns.Add(token.Value);
        }

        return patterns;
    }

    public static BlessingPattern ParseBlessingPattern(ArgumentResult result) => Single(result, text =>
        BlessingPattern.TryParse(text, out var pattern) ? pattern : Fail<BlessingPattern>(result, text, "a blessing pattern such as root:alice, root:alice:$ or ..."));

    /// <summary>A byte count: a whole number, optionally with B, K/KiB, M/MiB, G/GiB (powers of 1024) or KB, MB, GB.</summary>
    public static long ParseByteSize(ArgumentResult result) => Single(result, text =>
        TryParseByteSize(text, out var size) ? size : Fail<long>(result, text, "a byte count such as 65536, 64KiB, 10MB or 1GiB"));

    internal static bool TryParseByteSize(string text, out long size)
    {
        size = 0;
        var factor = 1L;
        var number = text.Trim();
        foreach (var (suffix, unit) in s_sizeSuffixes)
        {
            if (number.EndsWith(suffix, StringComparison.Ordinal))
            {
                number = number[..^suffix.Length];
                factor = unit;
                break;
            }
        }

        if (!long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count > long.MaxValue / factor)
        {
            return false;
        }

        size = count * factor;
        return true;
    }

    /// <summary>A parser of whole numbers between <paramref name="min"/> and <paramref name="max"/>.</summary>
    public static Func<ArgumentResult, int> Int(int min, int max) => result => Single(result, text =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : Fail<int>(result, text, $"a whole number from {min} to {max}"));

    /// <summary>A positive duration: 500ms, 30s, 5m, 2h, 7d, or hh:mm:ss.</summary>
    public static TimeSpan ParseDuration(ArgumentResult result) => Single(result, text =>
        TryParseDuration(text, out var duration) && duration > TimeSpan.Zero ? duration : Fail<TimeSpan>(result, text, "a positive duration such as 500ms, 30s, 5m, 2h or 7d"));

    internal static bool TryParseDuration(string text, out TimeSpan duration)
    {
        foreach (var (suffix, unit) in s_durationSuffixes)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal) &&
                double.TryParse(text[..^suffix.Length], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var count) &&
                count * unit.TotalMilliseconds < TimeSpan.MaxValue.TotalMilliseconds)
            {
                duration = unit * count;
                return true;
            }
        }

        return TimeSpan.TryParseExact(text, "c", CultureInfo.InvariantCulture, out duration);
    }

    /// <summary>An expiry: a duration from now (30d) or a time (2030-01-01T00:00:00Z), in the future.</summary>
    public static DateTimeOffset ParseExpiry(ArgumentResult result) => Single(result, text =>
    {
        const string Expected = "a duration from now such as 12h or 30d, or a future time such as 2030-01-01T00:00:00Z";
        if (TryParseDuration(text, out var duration))
        {
            return duration > TimeSpan.Zero ? DateTimeOffset.UtcNow + duration : Fail<DateTimeOffset>(result, text, Expected);
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) && time > DateTimeOffset.UtcNow
            ? time
            : Fail<DateTimeOffset>(result, text, Expected);
    });

    /// <summary>A gateway as host:port (a name, an IPv4 address, or an IPv6 address in brackets).</summary>
    public static GatewayAddress ParseGateway(ArgumentResult result) => Single(result, text =>
        GatewayAddress.TryParse(text, out var gateway) ? gateway : Fail<GatewayAddress>(result, text, "HOST:PORT such as 127.0.0.1:30000, with PORT from 1 to 65535"));

    /// <summary>A name: not empty, no whitespace.</summary>
    public static string ParseName(ArgumentResult result) => Single(result, text =>
        text.Length > 0 && !text.Any(char.IsWhiteSpace) ? text : Fail<string>(result, text, "a non-empty name without spaces"));

    private static T Single<T>(ArgumentResult result, Func<string, T> parse) =>
        result.Tokens.Count == 1 ? parse(result.Tokens[0].Value) : Fail<T>(result, string.Join(' ', result.Tokens.Select(t => t.Value)), "one value");

    /// <summary>Records the one-line error and returns a placeholder; the parse result carries the error.</summary>
    private static T Fail<T>(ArgumentResult result, string value, string expected)
    {
        result.AddError($"{Label(result)} '{value}' is not valid; expected {expected}");
        return default!;
    }

    internal static string Label(ArgumentResult result) =>
        result.Parent is OptionResult option ? option.Option.Name : result.Argument.HelpName ?? result.Argument.Name.ToUpperInvariant();
}
