using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Messages;
using FlowOrleans.Transport.Records;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Fuzz.Handshake;

/// <summary>
/// The peer of a fuzzed handshake, played from the fuzz input. The input is a list of commands, each an opcode byte
/// (taken modulo 4) and, for the first three, chunks of a little-endian u16 length and that many bytes (cut short at
/// the end of the input):
/// <list type="bullet">
/// <item>0 chunk: a plaintext frame holding the chunk. The first one is the peer's Setup; when it is a Setup carrying
/// <see cref="FuzzIdentities.PeerEphemeralPublicKey"/> and a cipher both sides list, the script derives the session
/// keys from it and the side under test's Setup, as docs/architecture.md 3.2 specifies, so later frames can be sealed.</item>
/// <item>1 chunk: a record sealing the chunk as plaintext (sent as is while there are no keys).</item>
/// <item>2 chunk chunk: an Auth with those blessings and discharges bytes (empty: the peer's real ones) and a valid
/// signature of the transcript by <see cref="FuzzIdentities.PeerKey"/>, sealed.</item>
/// <item>3: the peer closes the connection. So does the end of the input.</item>
/// </list>
/// The key schedule is restated here from the specification, not borrowed from the Transport, so a change to one that
/// the other does not follow shows: the self-test's valid handshakes stop succeeding.
/// </summary>
internal sealed class PeerScript : IDisposable
{
    public const byte RawFrame = 0;
    public const byte SealedFrame = 1;
    public const byte SignedAuth = 2;
    public const byte Close = 3;

    private const string SignaturePurpose = "flow.handshake.v1";
    private static readonly byte[] TranscriptLabel = Encoding.ASCII.GetBytes("FlowOrleans handshake v1");

    private readonly byte[] _input;
    private readonly HandshakeRole _peerRole;
    private int _position;
    private bool _closed;
    private bool _setupSent;
    private byte[]? _transcript;
    private RecordCipher? _send;

    public PeerScript(byte[] input, int start, HandshakeRole peerRole)
    {
        _input = input;
        _position = start;
        _peerRole = peerRole;
    }

    /// <summary>Whether the script derived the session keys (its Setup was usable).</summary>
    public bool HasKeys => _send is not null;

    /// <summary>The next frame the peer sends, or null once it has closed the connection.</summary>
    public byte[]? NextFrame(ScriptedConnection connection)
    {
        if (_closed || _position >= _input.Length)
        {
            _closed = true;
            return null;
        }

        switch (_input[_position++] % 4)
        {
            case RawFrame:
                var frame = NextChunk();
                if (!_setupSent)
                {
                    _setupSent = true;
                    TryDeriveKeys(connection, frame);
                }

                return frame;
            case SealedFrame:
                return Seal(NextChunk());
            case SignedAuth:
                return Seal(Wire.Encode(SignedAuthMessage(NextChunk(), NextChunk())));
            default:
                _closed = true;
                return null;
        }
    }

    /// <summary>Releases the session keys.</summary>
    public void Dispose() => _send?.Dispose();

    private byte[] NextChunk()
    {
        int length = 0;
        if (_position < _input.Length)
        {
            length = _input[_position++];
        }

        if (_position < _input.Length)
        {
            length |= _input[_position++] << 8;
        }

        length = Math.Min(length, _input.Length - _position);
        var chunk = _input.AsSpan(_position, length).ToArray();
        _position += length;
        return chunk;
    }

    private byte[] Seal(byte[] plaintext)
    {
        if (_send is null)
        {
            return plaintext;
        }

        var record = new byte[plaintext.Length + RecordLayout.TagSize];
        _send.Seal(plaintext, record);
        return record;
    }

    private Auth SignedAuthMessage(byte[] blessings, byte[] discharges)
    {
        var signed = new byte[(_transcript?.Length ?? 0) + 1];
        _transcript?.CopyTo(signed, 0);
        signed[^1] = (byte)_peerRole;
        return new Auth(
            new ReadOnlySequence<byte>(blessings.Length > 0 ? blessings : FuzzIdentities.PeerBlessings().ToBytes()),
            new ReadOnlySequence<byte>(discharges.Length > 0 ? discharges : Discharges.Empty.ToBytes()),
            new ReadOnlySequence<byte>(SignatureScheme.Sign(FuzzIdentities.PeerKey, SignaturePurpose, signed)));
    }

    private void TryDeriveKeys(ScriptedConnection connection, byte[] peerSetupBytes)
    {
        if (connection.Written.Count == 0
            || DecodeSetup(connection.Written[0]) is not { } testedSetup
            || DecodeSetup(peerSetupBytes) is not { } peerSetup
            || !peerSetup.EphemeralPublicKey.ToArray().AsSpan().SequenceEqual(FuzzIdentities.PeerEphemeralPublicKey))
        {
            return;
        }

        bool peerDials = _peerRole == HandshakeRole.Dialer;
        var (dialer, acceptor) = peerDials ? (peerSetup, testedSetup) : (testedSetup, peerSetup);
        if (ChooseCipher(dialer.Ciphers.ToArray(), acceptor.Ciphers.ToArray()) is not { } suite)
        {
            return;
        }

        byte[] secret;
        try
        {
            using var testedKey = ECDiffieHellman.Create();
            testedKey.ImportSubjectPublicKeyInfo(testedSetup.EphemeralPublicKey.ToArray(), out _);
            using var testedPublicKey = testedKey.PublicKey;
            secret = FuzzIdentities.PeerEphemeral.DeriveRawSecretAgreement(testedPublicKey);
        }
        catch (CryptographicException)
        {
            return;
        }

        _transcript = Transcript(
            peerDials ? peerSetupBytes : connection.Written[0],
            peerDials ? connection.Written[0] : peerSetupBytes);
        var prk = HKDF.Extract(HashAlgorithmName.SHA256, secret, _transcript);
        string direction = peerDials ? "dialer->acceptor" : "acceptor->dialer";
        var key = HKDF.Expand(HashAlgorithmName.SHA256, prk, 32, Encoding.ASCII.GetBytes($"flow v1 {direction} key {suite}"));
        var iv = HKDF.Expand(HashAlgorithmName.SHA256, prk, 12, Encoding.ASCII.GetBytes($"flow v1 {direction} iv"));
        _send = new RecordCipher(suite, key, iv);
    }

    private static Setup? DecodeSetup(byte[] bytes)
    {
        try
        {
            var sequence = new ReadOnlySequence<byte>(bytes);
            return MessageCodec.TryRead(sequence, 64 * 1024, out var message, out var consumed)
                && consumed.Equals(sequence.End) && message is Setup setup ? setup : null;
        }
        catch (FlowException)
        {
            return null;
        }
    }

    private static CipherSuite? ChooseCipher(byte[] dialerPreference, byte[] acceptorSupported)
    {
        foreach (byte id in dialerPreference)
        {
            if (Array.IndexOf(acceptorSupported, id) >= 0 && Enum.IsDefined((CipherSuite)id))
            {
                return (CipherSuite)id;
            }
        }

        return null;
    }

    private static byte[] Transcript(byte[] dialerSetup, byte[] acceptorSetup)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        hash.AppendData(TranscriptLabel);
        BinaryPrimitives.WriteInt32BigEndian(length, dialerSetup.Length);
        hash.AppendData(length);
        hash.AppendData(dialerSetup);
        BinaryPrimitives.WriteInt32BigEndian(length, acceptorSetup.Length);
        hash.AppendData(length);
        hash.AppendData(acceptorSetup);
        return hash.GetHashAndReset();
    }
}
