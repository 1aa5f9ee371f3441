using System.Buffers;
using CsCheck;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Messages;

namespace FlowOrleans.Tests.Messages;

/// <summary>
/// Hostile input: whatever the bytes, decoding either succeeds, asks for more, or throws
/// FlowException(BadArg); and it never allocates more than a bound linear in the bytes actually present.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class FuzzTests
{
    // Covers the message object, list headers, and a thrown FlowException with its message, stack trace and
    // inner exception (about 2 KiB once the thread has thrown one of each kind).
    private const long FixedAllocationAllowance = 4 * 1024;

    // Decoded strings take two bytes a UTF-8 byte; list slots (a FlowCredit is 16 bytes for at least two
    // input bytes, a string reference 8 bytes for at least one) take eight.
    private const long AllocationPerInputByte = 8;

    private static readonly Gen<byte[]> RandomBytes = Gen.Frequency(
        (1, Gen.Byte.Array[0, 64]),
        // A valid type byte first, so decoding gets past the first check and into the bodies.
        (3, Gen.Select(Gen.Byte[1, 14], Gen.Byte.Array[0, 64], (type, rest) => (byte[])[type, .. rest])));

    private static readonly Gen<byte[]> MutatedEncodings = Gen.Select(
        MessageGen.Any.Array[1, 3],
        Gen.Select(Gen.Int[0, 4], Gen.Double[0, 1], Gen.Byte).Array[1, 4],
        (messages, mutations) => Mutate(Codec.Encode(messages), mutations));

    [Fact]
    public void RandomBytesDecodeOrFailWithBadArgWithinAnAllocationBound()
    {
        Gen.Select(RandomBytes, MessageGen.Cuts).Sample(
            (bytes, cuts) => DecodeHostile(Segments.SplitAtFractions(bytes, cuts)),
            iter: 5000);
    }

    [Fact]
    public void MutatedEncodingsDecodeOrFailWithBadArgWithinAnAllocationBound()
    {
        Gen.Select(MutatedEncodings, MessageGen.Cuts).Sample(
            (bytes, cuts) => DecodeHostile(Segments.SplitAtFractions(bytes, cuts)),
            iter: 2000);
    }

    [Fact]
    public void HugeDeclaredLengthsAndCountsDoNotAllocate()
    {
        // Bodies within the limit whose inner lengths and counts claim gigabytes.
        byte[][] inputs =
        [
            [10, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0x07],                   // TearDown reason of 2^31 - 1 bytes
            [2, 10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], // Auth blessings of 2^64 - 1 bytes
            [12, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0x07],                   // ProxyResponse of 2^31 - 1 endpoints
            [5, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0x07],                    // Release of 2^31 - 1 credits
            [4, 0xFF, 0xFF, 0xFF, 0xFF, 0x07],                       // Data of a 2 GiB body, header only
        ];

        foreach (byte[] input in inputs)
        {
            DecodeHostile(new ReadOnlySequence<byte>(input));
            Assert.Throws<FlowException>(() => Codec.TryRead(input));
        }
    }

    private static void DecodeHostile(ReadOnlySequence<byte> input)
    {
        // Warm up this thread's first throws so one-time costs (resource strings) do not count.
        WarmUp();

        while (true)
        {
            // Decode once unmeasured: one-time runtime costs of a code path (type loading, resource strings, the
            // first throw of an exception kind on a thread) are not what the bound is about. Then measure.
            TryDecode(input, out _);
            long before = GC.GetAllocatedBytesForCurrentThread();
            bool decoded = TryDecode(input, out SequencePosition consumed);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(
                allocated <= FixedAllocationAllowance + (AllocationPerInputByte * input.Length),
                $"decoding {input.Length} bytes allocated {allocated} bytes");

            if (!decoded)
            {
                return;
            }

            input = input.Slice(consumed);
        }
    }

    [ThreadStatic]
    private static bool _warmedUp;

    private static bool TryDecode(ReadOnlySequence<byte> input, out SequencePosition consumed)
    {
        consumed = input.Start;
        try
        {
            return MessageCodec.TryRead(input, MessageCodec.DefaultMaxMessageSize, out _, out consumed);
        }
        catch (FlowException e)
        {
            Assert.Equal(FlowErrorCode.BadArg, e.Code);
            return false;
        }
    }

    private static void WarmUp()
    {
        if (_warmedUp)
        {
            return;
        }

        _warmedUp = true;
        foreach (byte[] input in (byte[][])[[6, 2, 5, 0], [10, 2, 1, 0xFF]])
        {
            Assert.Throws<FlowException>(() => Codec.TryRead(input));
        }
    }

    private static byte[] Mutate(byte[] encoded, (int Kind, double At, byte Value)[] mutations)
    {
        var bytes = new List<byte>(encoded);
        foreach ((int kind, double at, byte value) in mutations)
        {
            int index = (int)(at * bytes.Count);
            switch (kind)
            {
                case 0 when index < bytes.Count:
                    bytes[index] = value;
                    break;
                case 1 when index < bytes.Count:
                    bytes[index] ^= (byte)(1 << (value % 8));
                    break;
                case 2:
                    bytes.Insert(index, value);
                    break;
                case 3 when index < bytes.Count:
                    bytes.RemoveAt(index);
                    break;
                case 4:
                    bytes.RemoveRange(index, bytes.Count - index);
                    break;
            }
        }

        return [.. bytes];
    }
}
