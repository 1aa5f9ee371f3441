using System.Buffers;
using System.Text.Unicode;

namespace FlowOrleans.Transport.Endpoints;

/// <summary>
/// The <c>%XX</c> escaping of endpoint fields and small text helpers shared by the endpoint types.
/// </summary>
/// <remarks>
/// Printing escapes only the characters that would break the field structure (and <c>%</c> itself),
/// with uppercase hex as Vanadium does. Parsing accepts any <c>%XX</c> in either case; runs of escaped
/// bytes are decoded as UTF-8, which is how Vanadium's Go strings (byte strings) carry non-ASCII text.
/// </remarks>
internal static class EndpointText
{
    // Longest excerpt of caller input quoted in an error message, so a huge input cannot make a huge message.
    private const int MaxExcerptLength = 200;

    private const int StackallocThreshold = 256;

    /// <summary>Characters escaped in the address field: the field separator and the escape character.</summary>
    public static readonly SearchValues<char> AddressSpecials = SearchValues.Create("@%");

    /// <summary>
    /// Characters escaped in a route: the list separator, the escape character and also the field separator,
    /// which Vanadium leaves raw (producing strings it cannot parse back); every v6 parser unescapes it.
    /// </summary>
    public static readonly SearchValues<char> RouteSpecials = SearchValues.Create(",%@");

    /// <summary>The length of <paramref name="value"/> once escaped.</summary>
    public static int EscapedLength(ReadOnlySpan<char> value, SearchValues<char> specials)
    {
        var length = value.Length;
        var index = value.IndexOfAny(specials);
        while (index >= 0)
        {
            length += 2;
            value = value[(index + 1)..];
            index = value.IndexOfAny(specials);
        }

        return length;
    }

    /// <summary>Writes <paramref name="value"/> escaped; <paramref name="destination"/> must fit <see cref="EscapedLength"/>.</summary>
    public static int WriteEscaped(ReadOnlySpan<char> value, SearchValues<char> specials, Span<char> destination)
    {
        var written = 0;
        while (true)
        {
            var index = value.IndexOfAny(specials);
            var literal = index < 0 ? value : value[..index];
            literal.CopyTo(destination[written..]);
            written += literal.Length;
            if (index < 0)
            {
                return written;
            }

            // Specials are ASCII, so one escaped byte is the whole character.
            var c = value[index];
            destination[written] = '%';
            destination[written + 1] = "0123456789ABCDEF"[c >> 4];
            destination[written + 2] = "0123456789ABCDEF"[c & 0xF];
            written += 3;
            value = value[(index + 1)..];
        }
    }

    /// <summary>
    /// Decodes every <c>%XX</c> escape. Fails on a truncated or non-hex escape and on escaped bytes that
    /// are not valid UTF-8.
    /// </summary>
    public static bool TryUnescape(ReadOnlySpan<char> value, out string result)
    {
        if (!value.Contains('%'))
        {
            result = value.ToString();
            return true;
        }

        // Every escape (3 chars) yields at most one char and every literal yields one, so the input
        // length bounds both buffers.
        char[]? rentedChars = null;
        byte[]? rentedBytes = null;
        try
        {
            var chars = value.Length <= StackallocThreshold
                ? stackalloc char[StackallocThreshold]
                : (rentedChars = ArrayPool<char>.Shared.Rent(value.Length));
            var byteCapacity = value.Length / 3;
            var bytes = byteCapacity <= StackallocThreshold
                ? stackalloc byte[StackallocThreshold]
                : (rentedBytes = ArrayPool<byte>.Shared.Rent(byteCapacity));

            var written = 0;
            var i = 0;
            while (i < value.Length)
            {
                if (value[i] != '%')
                {
                    chars[written++] = value[i++];
                    continue;
                }

                // Gather a run of consecutive escapes: one UTF-8 character may span several of them.
                var byteCount = 0;
                while (i < value.Length && value[i] == '%')
                {
                    if (i + 2 >= value.Length)
                    {
                        result = string.Empty;
                        return false;
                    }

                    var high = HexValue(value[i + 1]);
                    var low = HexValue(value[i + 2]);
                    if (high < 0 || low < 0)
                    {
                        result = string.Empty;
                        return false;
                    }

                    bytes[byteCount++] = (byte)((high << 4) | low);
                    i += 3;
                }

                var status = Utf8.ToUtf16(
                    bytes[..byteCount],
                    chars[written..],
                    out _,
                    out var charsWritten,
                    replaceInvalidSequences: false);
                if (status != OperationStatus.Done)
                {
                    result = string.Empty;
                    return false;
                }

                written += charsWritten;
            }

            result = new string(chars[..written]);
            return true;
        }
        finally
        {
            if (rentedChars is not null)
            {
                ArrayPool<char>.Shared.Return(rentedChars);
            }

            if (rentedBytes is not null)
            {
                ArrayPool<byte>.Shared.Return(rentedBytes);
            }
        }
    }

    /// <summary>The value of a hex digit of either case, or -1.</summary>
    public static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>Caller input as quoted in error messages, cut to a bounded length.</summary>
    public static string Excerpt(ReadOnlySpan<char> input) =>
        input.Length <= MaxExcerptLength ? input.ToString() : string.Concat(input[..MaxExcerptLength], "...");
}
