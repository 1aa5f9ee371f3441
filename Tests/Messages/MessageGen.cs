using FlowOrleans.Transport;
using System.Buffers;
using CsCheck;
using FlowOrleans.Transport.Messages;

namespace FlowOrleans.Tests.Messages;

/// <summary>CsCheck generators for every wire message, biased toward the values that break codecs.</summary>
internal static class MessageGen
{
    /// <summary>
    /// Where to cut an encoding into segments, as fractions of its length (0 to 5 cuts). Declared first:
    /// static initializers run in order and the byte-string generators below use it.
    /// </summary>
    public static readonly Gen<double[]> Cuts = Gen.Double[0, 1].Array[0, 5];

    /// <summary>Any ulong, with 0, MaxValue, small values and every varint length boundary (2^7k - 1, 2^7k) common.</summary>
    public static readonly Gen<ulong> ULong = Gen.Frequency(
        (4, Gen.ULong),
        (2, Gen.Int[0, 300].Select(i => (ulong)i)),
        (2, Gen.Int[1, 9].Select(Gen.Int[-1, 0], (k, d) => (1UL << (7 * k)) + (ulong)(long)d)),
        (1, Gen.OneOf(Gen.Const(0UL), Gen.Const(ulong.MaxValue))));

    public static readonly Gen<uint> UInt = Gen.Frequency(
        (3, Gen.UInt),
        (1, Gen.OneOf(Gen.Const(0u), Gen.Const(uint.MaxValue), Gen.Const(127u), Gen.Const(128u))));

    public static readonly Gen<ushort> UShort = Gen.Frequency(
        (3, Gen.UShort),
        (1, Gen.OneOf(Gen.Const((ushort)0), Gen.Const(ushort.MaxValue))));

    public static readonly Gen<DataFlags> Flags = Gen.OneOf(Gen.Const(DataFlags.None), Gen.Const(DataFlags.Close));

    /// <summary>Valid strings (no lone surrogates): ASCII, or any scalar value, so 1- to 4-byte UTF-8 all occur.</summary>
    public static readonly Gen<string> Text = Gen.Frequency(
        (2, Gen.Int[0x20, 0x7E].Array[0, 40]),
        (2, Gen.Int[0, 0x10FFFF].Where(c => c is < 0xD800 or > 0xDFFF).Array[0, 20]),
        (1, Gen.Const(Array.Empty<int>())))
        .Select(codePoints => string.Concat(codePoints.Select(char.ConvertFromUtf32)));

    /// <summary>Small byte strings (keys, signatures) as sequences of one to four segments.</summary>
    public static readonly Gen<ReadOnlySequence<byte>> SmallBytes = Sequence(Gen.Byte.Array[0, 80]);

    /// <summary>Payloads of 0 to 70,000 bytes, mostly small so many iterations stay cheap.</summary>
    public static readonly Gen<ReadOnlySequence<byte>> Payload = Sequence(Gen.Frequency(
        (4, Gen.Byte.Array[0, 100]),
        (1, Gen.Byte.Array[0, 70_000]),
        (1, Gen.Const(Array.Empty<byte>()))));

    public static readonly Gen<Message> Setup = Gen.Select(
        UShort, UShort, SmallBytes, Text, Text, UInt, ULong, SmallBytes, SmallBytes,
        (min, max, key, local, remote, mtu, credit, ciphers, nonce) =>
            (Message)new Setup(min, max, key, local, remote, mtu, credit, ciphers, nonce));

    public static readonly Gen<Message> Auth = Gen.Select(
        Sequence(Gen.Byte.Array[0, 2000]), SmallBytes, SmallBytes,
        (blessings, discharges, signature) => (Message)new Auth(blessings, discharges, signature));

    public static readonly Gen<Message> OpenFlow = Gen.Select(
        ULong, ULong, Flags, Payload, (id, credit, flags, payload) => (Message)new OpenFlow(id, credit, flags, payload));

    public static readonly Gen<Message> Data = Gen.Select(
        ULong, Flags, Payload, (id, flags, payload) => (Message)new Data(id, flags, payload));

    public static readonly Gen<Message> Release = Gen.Select(ULong, ULong, (id, bytes) => new FlowCredit(id, bytes))
        .Array[1, 20]
        .Select(credits => (Message)new Release(credits));

    public static readonly Gen<Message> HealthCheckRequest = ULong.Select(n => (Message)new HealthCheckRequest(n));

    public static readonly Gen<Message> HealthCheckResponse = ULong.Select(n => (Message)new HealthCheckResponse(n));

    public static readonly Gen<Message> EnterLameDuck = Gen.Const<Message>(new EnterLameDuck());

    public static readonly Gen<Message> AckLameDuck = Gen.Const<Message>(new AckLameDuck());

    public static readonly Gen<Message> TearDown = Gen.Select(
        Gen.Int[1, 9], Text, (code, reason) => (Message)new TearDown((FlowErrorCode)code, reason));

    public static readonly Gen<Message> AuthAccepted = Gen.Const<Message>(new AuthAccepted());

    public static readonly Gen<Message> ProxyServerRequest = Gen.Const<Message>(new ProxyServerRequest());

    public static readonly Gen<Message> ProxyResponse = Text.Array[0, 6].Select(endpoints => (Message)new ProxyResponse(endpoints));

    public static readonly Gen<Message> ProxyErrorResponse = Text.Select(error => (Message)new ProxyErrorResponse(error));

    public static readonly Gen<Message> CloseFlow = Gen.Select(
        ULong, Gen.Int[1, 9], Text, (id, code, reason) => (Message)new CloseFlow(id, reason) { Code = (FlowErrorCode)code });

    /// <summary>Each type's generator by name, so tests can sample every type on its own.</summary>
    public static readonly IReadOnlyDictionary<string, Gen<Message>> ByType = new Dictionary<string, Gen<Message>>
    {
        [nameof(Setup)] = Setup,
        [nameof(Auth)] = Auth,
        [nameof(OpenFlow)] = OpenFlow,
        [nameof(Data)] = Data,
        [nameof(Release)] = Release,
        [nameof(HealthCheckRequest)] = HealthCheckRequest,
        [nameof(HealthCheckResponse)] = HealthCheckResponse,
        [nameof(EnterLameDuck)] = EnterLameDuck,
        [nameof(AckLameDuck)] = AckLameDuck,
        [nameof(TearDown)] = TearDown,
        [nameof(ProxyServerRequest)] = ProxyServerRequest,
        [nameof(ProxyResponse)] = ProxyResponse,
        [nameof(ProxyErrorResponse)] = ProxyErrorResponse,
        [nameof(CloseFlow)] = CloseFlow,
        [nameof(AuthAccepted)] = AuthAccepted,
    };

    /// <summary>Any message, every type equally likely.</summary>
    public static readonly Gen<Message> Any = Gen.OneOf(ByType.Values.Cast<IGen<Message>>().ToArray());

    private static Gen<ReadOnlySequence<byte>> Sequence(Gen<byte[]> bytes)
        => Gen.Select(bytes, Cuts, (data, cuts) => Segments.SplitAtFractions(data, cuts));
}
