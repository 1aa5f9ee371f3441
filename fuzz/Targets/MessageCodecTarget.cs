using System.Buffers;
using FlowOrleans.Transport.Messages;

namespace FlowOrleans.Fuzz.Targets;

/// <summary>
/// The wire message decoder, <see cref="MessageCodec.TryRead"/>, over arbitrary bytes read as a stream of messages.
/// Invariants: decoding ends in messages, a request for more bytes, or <see cref="FlowException"/> with
/// <see cref="FlowErrorCode.BadArg"/>, never another exception; every decoded message re-encodes to exactly the bytes
/// it was read from (the encoding is canonical); the same bytes split into small segments decode the same way; and
/// one decode allocates at most a constant plus a small multiple of the bytes present (the codec's documented bound).
/// </summary>
internal sealed class MessageCodecTarget : FuzzTarget
{
    // The codec's own bound (Tests/Messages/FuzzTests.cs): a constant for the message object and a thrown exception,
    // eight bytes per input byte for strings and list slots.
    private const long FixedAllocation = 4 * 1024;
    private const long AllocationPerByte = 8;

    // A string split across segments is decoded segment by segment (a decoder, and on bad UTF-8 an exception whose
    // message names the bytes): measured about 90 bytes a segment, so allowed 128.
    private const long AllocationPerSegment = 128;

    // A limit small enough that the fuzzer meets the "declared body length exceeds the limit" path.
    private const int SmallLimit = 64;

    public override string Name => "message-codec";

    public override int MaxLength => 4096;

    public override void Run(ReadOnlySpan<byte> input)
    {
        var bytes = input.ToArray();
        foreach (int limit in (ReadOnlySpan<int>)[MessageCodec.DefaultMaxMessageSize, SmallLimit])
        {
            var whole = DecodeAll(new ReadOnlySequence<byte>(bytes), limit, 0);
            // A segment length from the input itself, so the fuzzer controls where the splits fall.
            int segmentLength = 1 + (bytes.Length == 0 ? 0 : bytes[^1] % 7);
            var split = DecodeAll(Wire.Segmented(bytes, segmentLength), limit, AllocationPerSegment * (1 + (bytes.Length / segmentLength)));
            Invariant.True(
                whole.SequenceEqual(split),
                $"decoding in {segmentLength}-byte segments gave [{string.Join("; ", split)}], contiguous [{string.Join("; ", whole)}]");
        }
    }

    /// <summary>Decodes messages until the input ends or fails; returns what happened, step by step.</summary>
    private static List<string> DecodeAll(ReadOnlySequence<byte> input, int limit, long segmentAllowance)
    {
        var steps = new List<string>();
        while (true)
        {
            // Once unmeasured, so one-time runtime costs of a code path (type loading, the first throw of an
            // exception kind) do not count, then measured.
            TryDecode(input, limit, out _, out _);
            bool decoded = false;
            Message? message = null;
            SequencePosition consumed = default;
            FlowException? error = null;
            Invariant.AllocatesAtMost(
                FixedAllocation + (AllocationPerByte * input.Length) + segmentAllowance,
                $"decoding {input.Length} bytes",
                () => decoded = TryDecode(input, limit, out message, out consumed, out error));
            if (error is not null)
            {
                Invariant.RejectedWith(error, FlowErrorCode.BadArg, "decoding");
                steps.Add("BadArg");
                return steps;
            }

            if (!decoded)
            {
                Invariant.True(consumed.Equals(input.Start), "a decode that needs more bytes consumed some");
                steps.Add($"needs more after {input.Length} bytes");
                return steps;
            }

            var read = input.Slice(0, consumed).ToArray();
            Invariant.True(read.Length > 0, "a decoded message consumed no bytes");
            Invariant.True(MessageCodec.GetEncodedLength(message!) == read.Length, $"GetEncodedLength of {message} is not the {read.Length} bytes it was read from");
            Invariant.BytesEqual(read, Wire.Encode(message!), $"re-encoding {message!.GetType().Name}");
            steps.Add($"{message.GetType().Name} of {read.Length} bytes");
            input = input.Slice(consumed);
        }
    }

    private static bool TryDecode(ReadOnlySequence<byte> input, int limit, out Message? message, out SequencePosition consumed)
        => TryDecode(input, limit, out message, out consumed, out _);

    private static bool TryDecode(
        ReadOnlySequence<byte> input, int limit, out Message? message, out SequencePosition consumed, out FlowException? error)
    {
        error = null;
        message = null;
        consumed = input.Start;
        try
        {
            return MessageCodec.TryRead(input, limit, out message, out consumed);
        }
        catch (FlowException e)
        {
            error = e;
            return false;
        }
    }

    public override IEnumerable<KeyValuePair<string, byte[]>> Seeds()
    {
        var payload = Wire.Bytes("hello"u8.ToArray());
        var key = Wire.Bytes(new byte[91]);
        Message[] all =
        [
            new Setup(1, 1, key, "@6@tcp@127.0.0.1:8100@@00000000000000000000000000000401@s@@", "", 65536, 262144, Wire.Bytes(1, 2), Wire.Bytes(new byte[16])),
            new Auth(Wire.Bytes(1, 0), Wire.Bytes(1, 0), Wire.Bytes(new byte[64])),
            new OpenFlow(3, 262144, DataFlags.None, payload),
            new Data(3, DataFlags.Close, payload),
            new Release([new FlowCredit(3, 4096), new FlowCredit(5, 1)]),
            new HealthCheckRequest(ulong.MaxValue),
            new HealthCheckResponse(0),
            EnterLameDuck.Instance,
            AckLameDuck.Instance,
            new TearDown(FlowErrorCode.Network, "gone"),
            ProxyServerRequest.Instance,
            new ProxyResponse(["@6@tcp@10.0.0.1:1@@@s@@", "é"]),
            new ProxyErrorResponse("refused"),
            new CloseFlow(1, "done"),
            AuthAccepted.Instance,
        ];
        foreach (var message in all)
        {
            yield return new($"{message.GetType().Name}", Wire.Encode(message));
        }

        yield return new("several", Wire.Encode(all[2], all[3], all[4], all[5], all[13]));
        yield return new("empty-payloads", Wire.Encode(new Data(1, DataFlags.None, default), new OpenFlow(2, 0, DataFlags.Close, default)));
        byte[] data = Wire.Encode(all[3]);
        yield return new("truncated-data", data[..^2]);
        yield return new("ten-byte-varint", [6, 10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]);
        yield return new("overlong-varint", [6, 2, 0x80, 0x00]);
        yield return new("huge-declared-length", [10, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0x07]);
        yield return new("unknown-type", [16, 0]);
        yield return new("invalid-utf8", [13, 3, 2, 0xC3, 0x28]);
    }
}
