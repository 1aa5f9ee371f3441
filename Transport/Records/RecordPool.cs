using System.Buffers;

namespace FlowOrleans.Transport.Records;

/// <summary>
/// Arrays for decrypted records. Records above half a full one (bulk data) come from a process-wide stack of arrays of
/// exactly <see cref="RecordLayout.MaxPlaintext"/> bytes; smaller ones (control messages, short writes) from the shared
/// pool, whose powers of two fit them as tightly. Either way an array is at most about twice the record it holds,
/// which is what lets a flow keep a slice of at least half an array without copying it (docs/security.md).
/// </summary>
/// <remarks>
/// Why not <see cref="ArrayPool{T}"/> for the big ones: its buckets are powers of two, so a 65 KiB record took a
/// 128 KiB array, which is on the large object heap; and received records stay referenced by flows' queues until
/// the application reads them, so a connection with 64 busy flows has hundreds out at once, far more than a pool
/// keeps. Every miss then allocated on the large object heap, and those allocations drive gen2 collections. An
/// exact-size array stays below the large object threshold, so a miss is an ordinary young allocation, and the stack
/// here keeps up to <see cref="MaxRetained"/> of them (about 17 MB) for reuse.
/// </remarks>
internal static class RecordPool
{
    /// <summary>Records at most this large use the shared pool.</summary>
    internal const int SmallRecord = 32 * 1024;

    /// <summary>Most full-size arrays kept for reuse, across all connections.</summary>
    internal const int MaxRetained = 256;

    private static readonly Lock Gate = new();
    private static readonly byte[][] Retained = new byte[MaxRetained][];
    private static int _count;

    public static byte[] Rent(int size)
    {
        if (size <= SmallRecord)
        {
            return ArrayPool<byte>.Shared.Rent(size);
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, RecordLayout.MaxPlaintext);
        lock (Gate)
        {
            if (_count > 0)
            {
                var array = Retained[--_count];
                Retained[_count] = null!;
                return array;
            }
        }

        // Uninitialized: the cipher overwrites what the record uses, and nothing reads past it.
        return GC.AllocateUninitializedArray<byte>(RecordLayout.MaxPlaintext);
    }

    public static void Return(byte[] array)
    {
        if (array.Length != RecordLayout.MaxPlaintext)
        {
            ArrayPool<byte>.Shared.Return(array);
            return;
        }

        lock (Gate)
        {
            if (_count < MaxRetained)
            {
                Retained[_count++] = array;
            }
        }
    }
}
