using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Messages;
using FlowOrleans.Transport.Records;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Reliability.Handshakes;

/// <summary>
/// One end of a handshake's key exchange done by the attacker with a real side: its own ephemeral key, both Setups
/// as they travelled on this hop, the transcript and a record cipher per direction, so it can read and write the
/// encrypted second half (an impostor peer, either half of a man in the middle). The key schedule is restated from
/// docs/architecture.md 3.2, not borrowed from the Transport, so a change to one that the other does not follow shows
/// as the honest attacks of the matrix failing.
/// </summary>
internal sealed class AttackerSession : IDisposable
{
    public const string SignaturePurpose = "flow.handshake.v1";

    private static readonly byte[] TranscriptLabel = Encoding.ASCII.GetBytes("FlowOrleans handshake v1");

    private readonly RecordCipher _send;
    private readonly RecordCipher _receive;

    private AttackerSession(HandshakeRole role, byte[] transcript, RecordCipher send, RecordCipher receive)
    {
        Role = role;
        Transcript = transcript;
        _send = send;
        _receive = receive;
    }

    /// <summary>The role the attacker plays on this hop.</summary>
    public HandshakeRole Role { get; }

    public byte[] Transcript { get; }

    /// <summary>A fresh P-256 key pair, in the form Setup carries its public half.</summary>
    public static (ECDiffieHellman Key, byte[] PublicKey) NewEphemeral()
    {
        var key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        return (key, key.ExportSubjectPublicKeyInfo());
    }

    /// <summary>The public half of a fresh P-256 key pair whose private half nobody keeps.</summary>
    public static byte[] NewPublicKey()
    {
        using var key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        return key.ExportSubjectPublicKeyInfo();
    }

    /// <summary>
    /// Keys for the hop where the attacker plays <paramref name="role"/>, sent <paramref name="attackerSetup"/> (whose
    /// ephemeral key is <paramref name="attackerKey"/>'s) and received <paramref name="realSetup"/>.
    /// </summary>
    public static AttackerSession Create(HandshakeRole role, ECDiffieHellman attackerKey, byte[] attackerSetup, byte[] realSetup)
    {
        var real = DecodeSetup(realSetup);
        var attacker = DecodeSetup(attackerSetup);
        var transcript = TranscriptOf(role == HandshakeRole.Dialer ? attackerSetup : realSetup, role == HandshakeRole.Dialer ? realSetup : attackerSetup);
        var (dialer, acceptor) = role == HandshakeRole.Dialer ? (attacker, real) : (real, attacker);
        var suite = (CipherSuite)dialer.Ciphers.ToArray().First(id => acceptor.Ciphers.ToArray().Contains(id));

        using var peer = ECDiffieHellman.Create();
        peer.ImportSubjectPublicKeyInfo(real.EphemeralPublicKey.ToArray(), out _);
        using var peerPublic = peer.PublicKey;
        var prk = HKDF.Extract(HashAlgorithmName.SHA256, attackerKey.DeriveRawSecretAgreement(peerPublic), transcript);
        RecordCipher Cipher(string direction) => new(
            suite,
            HKDF.Expand(HashAlgorithmName.SHA256, prk, 32, Encoding.ASCII.GetBytes($"flow v1 {direction} key {suite}")),
            HKDF.Expand(HashAlgorithmName.SHA256, prk, 12, Encoding.ASCII.GetBytes($"flow v1 {direction} iv")));
        var toAcceptor = Cipher("dialer->acceptor");
        var toDialer = Cipher("acceptor->dialer");
        return role == HandshakeRole.Dialer
            ? new AttackerSession(role, transcript, toAcceptor, toDialer)
            : new AttackerSession(role, transcript, toDialer, toAcceptor);
    }

    /// <summary>What a side signs in its Auth: the transcript and its role byte.</summary>
    public static byte[] SignedBytes(byte[] transcript, HandshakeRole signer) => [.. transcript, (byte)signer];

    /// <summary>An Auth presenting <paramref name="blessings"/> with <paramref name="signature"/> (and no discharges).</summary>
    public static Auth AuthMessage(Blessings blessings, byte[] signature) => new(
        new ReadOnlySequence<byte>(blessings.ToBytes()),
        new ReadOnlySequence<byte>(Discharges.Empty.ToBytes()),
        new ReadOnlySequence<byte>(signature));

    public static Setup DecodeSetup(byte[] frame) => Decode(frame) as Setup
        ?? throw new InvalidOperationException("The frame does not hold a Setup.");

    public static Message Decode(byte[] plaintext)
    {
        var bytes = new ReadOnlySequence<byte>(plaintext);
        if (!MessageCodec.TryRead(bytes, 64 * 1024, out var message, out var consumed) || !consumed.Equals(bytes.End))
        {
            throw new FlowException(FlowErrorCode.BadArg, "Not exactly one message.");
        }

        return message;
    }

    public static byte[] Encode(Message message)
    {
        var writer = new ArrayBufferWriter<byte>();
        MessageCodec.Write(writer, message);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>The Setup of <paramref name="frame"/> with its ephemeral key replaced.</summary>
    public static byte[] WithEphemeralKey(byte[] frame, byte[] publicKey) =>
        Encode(DecodeSetup(frame) with { EphemeralPublicKey = new ReadOnlySequence<byte>(publicKey) });

    /// <summary>The next record this side sends, holding <paramref name="message"/>.</summary>
    public byte[] Seal(Message message)
    {
        var plaintext = Encode(message);
        var record = new byte[plaintext.Length + RecordLayout.TagSize];
        _send.Seal(plaintext, record);
        return record;
    }

    /// <summary>The message in the next record the real side sent on this hop.</summary>
    public Message Open(byte[] record)
    {
        var plaintext = new byte[record.Length - RecordLayout.TagSize];
        _receive.Open(record, plaintext);
        return Decode(plaintext);
    }

    public void Dispose()
    {
        _send.Dispose();
        _receive.Dispose();
    }

    private static byte[] TranscriptOf(byte[] dialerSetup, byte[] acceptorSetup)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(TranscriptLabel);
        foreach (var setup in new[] { dialerSetup, acceptorSetup })
        {
            var length = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, setup.Length);
            hash.AppendData(length);
            hash.AppendData(setup);
        }

        return hash.GetHashAndReset();
    }
}
