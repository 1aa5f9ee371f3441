using System.Security.Cryptography;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Security;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class SignatureTests : IDisposable
{
    private static readonly byte[] s_message = "hello, flow"u8.ToArray();

    private readonly Principal _principal = Principal.CreateInMemory();
    private readonly Principal _other = Principal.CreateInMemory();

    public void Dispose()
    {
        _principal.Dispose();
        _other.Dispose();
    }

    [Fact]
    public void SignatureVerifiesOnlyForItsPurposeMessageAndKey()
    {
        var signature = _principal.Sign("handshake", s_message);

        Assert.Equal(64, signature.Length);
        Assert.True(_principal.PublicKey.Verify("handshake", s_message, signature));
        Assert.False(_principal.PublicKey.Verify("handshake2", s_message, signature));
        Assert.False(_principal.PublicKey.Verify("", s_message, signature));
        Assert.False(_principal.PublicKey.Verify("handshake", "hello, flow!"u8, signature));
        Assert.False(_other.PublicKey.Verify("handshake", s_message, signature));
    }

    [Fact]
    public void PurposeAndMessageCannotTradeBytes()
    {
        // Without the length prefix, ("ab", "c") and ("a", "bc") would hash the same bytes.
        var signature = _principal.Sign("ab", "c"u8);

        Assert.True(_principal.PublicKey.Verify("ab", "c"u8, signature));
        Assert.False(_principal.PublicKey.Verify("a", "bc"u8, signature));
        Assert.False(_principal.PublicKey.Verify("abc", ""u8, signature));
    }

    [Fact]
    public void CorruptedOrMisSizedSignaturesDoNotVerify()
    {
        var signature = _principal.Sign("p", s_message);
        for (var i = 0; i < signature.Length; i++)
        {
            var corrupted = (byte[])signature.Clone();
            corrupted[i] ^= 0x01;
            Assert.False(_principal.PublicKey.Verify("p", s_message, corrupted));
        }

        Assert.False(_principal.PublicKey.Verify("p", s_message, signature.AsSpan(0, 63)));
        Assert.False(_principal.PublicKey.Verify("p", s_message, [.. signature, 0]));
        Assert.False(_principal.PublicKey.Verify("p", s_message, []));
    }

    [Fact]
    public void TheHighSTwinOfASignatureIsRejected()
    {
        // (r, n - s) is a mathematically valid ECDSA signature too; accepting it would give every signed
        // structure a second encoding. Signatures are produced with low s and only low s verifies.
        var signature = _principal.Sign("p", s_message);
        Assert.True(SignatureScheme.IsLowS(signature.AsSpan(32)));
        var twin = (byte[])signature.Clone();
        var order = Convert.FromHexString("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
        var borrow = 0;
        for (var i = 31; i >= 0; i--)
        {
            var difference = order[i] - signature[32 + i] - borrow;
            borrow = difference < 0 ? 1 : 0;
            twin[32 + i] = (byte)(difference + (borrow << 8));
        }

        using var raw = ECDsa.Create();
        raw.ImportSubjectPublicKeyInfo(_principal.PublicKey.Bytes.Span, out _);
        var digest = new byte[32];
        SignatureScheme.ComputeDigest("p", s_message, digest);
        Assert.True(raw.VerifyHash(digest, twin, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));

        Assert.False(_principal.PublicKey.Verify("p", s_message, twin));
    }

    [Fact]
    public void PublicKeyRoundTripsAndRejectsJunk()
    {
        var key = PublicKey.FromBytes(_principal.PublicKey.Bytes.Span);
        Assert.Equal(_principal.PublicKey, key);
        Assert.Equal(_principal.PublicKey.GetHashCode(), key.GetHashCode());
        Assert.NotEqual(_other.PublicKey, key);

        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var compressedFlag = _principal.PublicKey.Bytes.ToArray();
        compressedFlag[^65] = 0x05;
        var offCurve = _principal.PublicKey.Bytes.ToArray();
        offCurve[^1] ^= 0x01;
        byte[][] junk =
        [
            [],
            [0x30, 0x00],
            "not a key"u8.ToArray(),
            p384.ExportSubjectPublicKeyInfo(),
            [.. _principal.PublicKey.Bytes.Span, 0x00],
            _principal.PublicKey.Bytes.Span[..^1].ToArray(),
            compressedFlag,
            offCurve,
        ];
        foreach (var bytes in junk)
        {
            Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => PublicKey.FromBytes(bytes)).Code);
        }
    }

    [Fact]
    public async Task OnePrincipalAndKeySignAndVerifyConcurrently()
    {
        var key = PublicKey.FromBytes(_principal.PublicKey.Bytes.Span);
        var workers = Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            for (var i = 0; i < 50; i++)
            {
                var message = BitConverter.GetBytes((worker * 1000) + i);
                var signature = _principal.Sign("p", message);
                Assert.True(key.Verify("p", message, signature));
                Assert.False(key.Verify("q", message, signature));
            }
        }, TestContext.Current.CancellationToken));

        await Task.WhenAll(workers);
    }

    [Fact]
    public void DisposedPrincipalRefusesToSign()
    {
        var principal = Principal.CreateInMemory();
        principal.Dispose();

        Assert.Equal(FlowErrorCode.BadState, Assert.Throws<FlowException>(() => principal.Sign("p", s_message)).Code);
        Assert.Equal(FlowErrorCode.BadState, Assert.Throws<FlowException>(() => principal.BlessSelf("x")).Code);
    }
}
