using System.Diagnostics.CodeAnalysis;

namespace FlowOrleans.Fuzz;

/// <summary>Assertions of the fuzz targets: each failure is an <see cref="InvariantViolationException"/>.</summary>
internal static class Invariant
{
    public static void True([DoesNotReturnIf(false)] bool condition, string what)
    {
        if (!condition)
        {
            throw new InvariantViolationException(what);
        }
    }

    public static void BytesEqual(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, string what)
    {
        if (!expected.SequenceEqual(actual))
        {
            throw new InvariantViolationException(
                $"{what}: expected {Convert.ToHexString(expected)}, got {Convert.ToHexString(actual)}.");
        }
    }

    /// <summary>Input rejected the documented way: a <see cref="FlowException"/> with <paramref name="code"/>.</summary>
    public static void RejectedWith(FlowException e, FlowErrorCode code, string what)
    {
        if (e.Code != code)
        {
            throw new InvariantViolationException($"{what} failed with {e.Code}, documented as {code}.", e);
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> and checks the managed bytes it allocated on this thread stay within
    /// <paramref name="bound"/>: a decoder that trusts a declared length or count allocates far more.
    /// </summary>
    public static void AllocatesAtMost(long bound, string what, Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > bound)
        {
            throw new InvariantViolationException($"{what} allocated {allocated} bytes, above its bound of {bound}.");
        }
    }
}
