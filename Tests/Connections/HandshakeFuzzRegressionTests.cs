using System.Buffers;
using System.Security.Cryptography;
using FlowOrleans.Tests.Messages;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Messages;
using FlowOrleans.Transport.Security;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Connections;

/// <summary>Handshake inputs the coverage-guided fuzzer (fuzz/, the handshake target) found mishandled, kept fixed.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class HandshakeFuzzRegressionTests
{
    [Fact]
    public async Task AnEphemeralKeyOnACurveThePlatformDoesNotKnowFailsAuth()
    {
        // A P-256 SubjectPublicKeyInfo whose curve OID 1.2.840.10045.3.1.7 has two bytes changed: the platform throws
        // PlatformNotSupportedException importing it, which escaped the handshake instead of failing it with Auth.
        using var key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        byte[] spki = key.ExportSubjectPublicKeyInfo();
        int oid = spki.AsSpan().IndexOf((ReadOnlySpan<byte>)[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]);
        Assert.True(oid > 0);
        spki[oid + 1] = 0xFF;
        spki[oid + 2] = 0xFF;

        var (dialed, accepted, listener) = await FramedPairAsync("memory");
        await using var _ = listener;
        await using var __ = dialed;
        await using var ___ = accepted;
        var principal = NewPrincipal("acceptor");
        var handshake = Handshake.RunAsync(accepted, HandshakeRole.Acceptor, new ConnectionSettings
        {
            Principal = principal,
            Authorizer = PeerAuthorizers.AllowEveryone(principal),
            LocalEndpoint = LocalEndpoint(),
            Options = new ConnectionOptions(),
        }, CancellationToken.None).AsTask();

        byte[] setup = Codec.Encode(new Setup(
            ProtocolVersions.Min,
            ProtocolVersions.Max,
            new ReadOnlySequence<byte>(spki),
            LocalEndpoint().ToString(),
            string.Empty,
            64 * 1024,
            256 * 1024,
            new ReadOnlySequence<byte>([(byte)CipherSuite.Aes256Gcm]),
            new ReadOnlySequence<byte>(new byte[16])));
        setup.CopyTo(dialed.GetFrameBuffer(setup.Length));
        dialed.CommitFrame();
        await dialed.FlushAsync();

        var e = await Assert.ThrowsAsync<FlowException>(() => handshake.WaitAsync(TestTimeout));
        Assert.Equal(FlowErrorCode.Auth, e.Code);
    }
}
