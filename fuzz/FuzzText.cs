using System.Runtime.InteropServices;
using System.Text;

namespace FlowOrleans.Fuzz;

/// <summary>
/// Turns fuzz bytes into a string: UTF-8 (invalid sequences become U+FFFD), or, after a leading FF FE, raw UTF-16LE
/// code units, so lone surrogates and any other char value reach the parsers too.
/// </summary>
internal static class FuzzText
{
    public static string Decode(ReadOnlySpan<byte> input)
    {
        if (input.Length >= 2 && input[0] == 0xFF && input[1] == 0xFE)
        {
            var units = input[2..];
            return new string(MemoryMarshal.Cast<byte, char>(units[..(units.Length & ~1)]));
        }

        return Encoding.UTF8.GetString(input);
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    public static byte[] Utf16(string text) => [0xFF, 0xFE, .. MemoryMarshal.AsBytes(text.AsSpan())];
}
