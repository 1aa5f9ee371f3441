using System.Buffers.Binary;
using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Messages;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Records;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Transport.Connections;

/// <summary>
/// The authenticated key exchange that turns a framed connection into a secure one (docs/architecture.md, "Handshake").
/// Both sides send a plaintext Setup (version range, ephemeral P-256 key, endpoints, limits, ciphers); the shared secret
/// and the transcript of both Setups feed HKDF, which gives one AEAD key and IV per direction. Each side then signs the
/// transcript hash together with its role, so a signature cannot be replayed on another session or reflected back,
/// and sends it with its blessings, encrypted. The acceptor speaks first so the dialer can judge it before choosing
/// which blessings to reveal; the acceptor ends with AuthAccepted (or a TearDown saying why not).
/// </summary>
internal static partial class Handshake
{
    internal const string SignaturePurpose = "flow.handshake.v1";
    private const int MaxHandshakeMessage = 64 * 1024;

    /// <summary>The largest frame of a handshake: its largest message, sealed in a record (or plain).</summary>
    internal const int MaxFrame = MaxHandshakeMessage + RecordLayout.TagSize;
    private static readonly byte[] TranscriptLabel = Encoding.ASCII.GetBytes("FlowOrleans handshake v1");

    public static async ValueTask<HandshakeResult> RunAsync(
        IFramedConnection connection, HandshakeRole role, ConnectionSettings settings, CancellationToken cancellationToken)
    {
        var options = settings.Options;
        using var timeout = new CancellationTokenSource(options.HandshakeTimeout, options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await RunCoreAsync(connection, role, settings, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new FlowException(FlowErrorCode.Network, $"Handshake did not finish within {options.HandshakeTimeout}.");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new FlowException(FlowErrorCode.Aborted, "Handshake cancelled.");
        }
        catch (FlowException e) when (e.Code == FlowErrorCode.Aborted && timeout.IsCancellationRequested)
        {
            throw new FlowException(FlowErrorCode.Network, $"Handshake did not finish within {options.HandshakeTimeout}.", e);
        }
    }

    private static async ValueTask<HandshakeResult> RunCoreAsync(
        IFramedConnection connection, HandshakeRole role, ConnectionSettings p, CancellationToken ct)
    {
        var options = p.Options;
        using var ephemeralKey = EphemeralKeys.Take();
        var ephemeral = ephemeralKey.Key;
        var localSetup = new Setup(
            options.MinVersion,
            options.MaxVersion,
            new ReadOnlySequence<byte>(ephemeralKey.PublicKey),
            p.LocalEndpoint.ToString(),
            p.RemoteEndpoint?.ToString() ?? string.Empty,
            (uint)options.Mtu,
            (ulong)options.SharedCredit,
            new ReadOnlySequence<byte>(options.Ciphers.Select(c => (byte)c).ToArray()),
            new ReadOnlySequence<byte>(RandomNumberGenerator.GetBytes(16)));
        var localSetupBytes = Encode(localSetup);

        // Both sides send their Setup at once, so each imports the peer's key and derives the secret while the other
        // does the same: those are the handshake's costliest steps, and overlapping them beats saving a write (the
        // acceptor answering with Setup and Auth in one write measured slower).
        await WritePlainAsync(connection, localSetupBytes, ct).ConfigureAwait(false);
        var remoteSetupBytes = await ReadPlainAsync(connection, ct).ConfigureAwait(false);
        try
        {
            return await SecureAsync(connection, role, p, ephemeral, localSetup, localSetupBytes, remoteSetupBytes, ct).ConfigureAwait(false);
        }
        catch (PlaintextPhaseException e)
        {
            // No keys yet: say why in the clear, so the peer reports the real cause rather than a dropped connection.
            if (e.Error.Code != FlowErrorCode.Network)
            {
                try
                {
                    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                    await WritePlainAsync(connection, Encode(Refusal(p, connection, role, e.Error)), cts.Token).ConfigureAwait(false);
                }
                catch (Exception send) when (send is FlowException or OperationCanceledException)
                {
                    // A courtesy only.
                }
            }

            throw e.Error;
        }
    }

    private static async ValueTask<HandshakeResult> SecureAsync(
        IFramedConnection connection, HandshakeRole role, ConnectionSettings p, ECDiffieHellman ephemeral,
        Setup localSetup, byte[] localSetupBytes, byte[] remoteSetupBytes, CancellationToken ct)
    {
        var options = p.Options;
        Setup remoteSetup;
        ushort version;
        CipherSuite suite;
        Endpoint remoteEndpoint;
        RecordCipher send;
        RecordCipher receive;
        byte[] transcript;
        try
        {
            (remoteSetup, version, suite, remoteEndpoint) = Negotiate(role, p, localSetup, remoteSetupBytes);
            transcript = TranscriptHash(
                role == HandshakeRole.Dialer ? localSetupBytes : remoteSetupBytes,
                role == HandshakeRole.Dialer ? remoteSetupBytes : localSetupBytes);
            var secret = DeriveSharedSecret(ephemeral, remoteSetup.EphemeralPublicKey);
            (send, receive) = DeriveCiphers(secret, transcript, suite, role, p.MaxRecords);
            CryptographicOperations.ZeroMemory(secret);
        }
        catch (FlowException e) when (e.Data["peer"] is null)
        {
            throw new PlaintextPhaseException(e);
        }

        return await AuthenticateAsync(connection, role, p, remoteSetup, version, remoteEndpoint, send, receive, transcript, ct).ConfigureAwait(false);
    }

    private static (Setup Remote, ushort Version, CipherSuite Suite, Endpoint RemoteEndpoint) Negotiate(
        HandshakeRole role, ConnectionSettings p, Setup localSetup, byte[] remoteSetupBytes)
    {
        var options = p.Options;
        var remoteSetup = DecodeSetup(remoteSetupBytes);

        var version = ProtocolVersions.Negotiate(options.MinVersion, options.MaxVersion, remoteSetup.MinVersion, remoteSetup.MaxVersion)
            ?? throw new FlowException(FlowErrorCode.BadState,
                $"No common protocol version: this side speaks [{options.MinVersion}, {options.MaxVersion}], " +
                $"the peer [{remoteSetup.MinVersion}, {remoteSetup.MaxVersion}].");
        var dialerSetup = role == HandshakeRole.Dialer ? localSetup : remoteSetup;
        var acceptorSetup = role == HandshakeRole.Dialer ? remoteSetup : localSetup;
        var suite = ChooseCipher(dialerSetup.Ciphers.ToArray(), acceptorSetup.Ciphers.ToArray());
        var remoteEndpoint = ParseEndpoint(remoteSetup.LocalEndpoint, "local endpoint");
        if (p.RemoteEndpoint is { RoutingId.IsNull: false } expected && expected.RoutingId != remoteEndpoint.RoutingId)
        {
            throw new FlowException(FlowErrorCode.NotTrusted,
                $"Dialed routing ID {expected.RoutingId} but the peer is {remoteEndpoint.RoutingId}.");
        }

        if (remoteSetup.Mtu < 1024)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"Peer MTU {remoteSetup.Mtu} is below the minimum of 1024.");
        }

        return (remoteSetup, version, suite, remoteEndpoint);
    }

    private static async ValueTask<HandshakeResult> AuthenticateAsync(
        IFramedConnection connection, HandshakeRole role, ConnectionSettings p, Setup remoteSetup, ushort version,
        Endpoint remoteEndpoint, RecordCipher send, RecordCipher receive, byte[] transcript, CancellationToken ct)
    {
        var channel = new SecureHandshakeChannel(connection, send, receive);
        try
        {
            var peerRole = role == HandshakeRole.Dialer ? HandshakeRole.Acceptor : HandshakeRole.Dialer;
            Blessings localBlessings;
            Discharges localDischarges;
            Blessings remoteBlessings;
            Discharges remoteDischarges;
            PeerAuthorization verdict;
            if (role == HandshakeRole.Acceptor)
            {
                (localBlessings, localDischarges) = LocalCredentials(p, []);
                await WriteFirstRecordAsync(channel, SignedAuth(p.Principal, localBlessings, localDischarges, transcript, role), ct).ConfigureAwait(false);
                (remoteBlessings, remoteDischarges) = await ReadAuthAsync(channel, transcript, peerRole, ct).ConfigureAwait(false);
                verdict = await AuthorizeAsync(p, remoteEndpoint, remoteBlessings, remoteDischarges, ct).ConfigureAwait(false);
                await channel.WriteAsync(new AuthAccepted(), ct).ConfigureAwait(false);
            }
            else
            {
                (remoteBlessings, remoteDischarges) = await ReadAuthAsync(channel, transcript, peerRole, ct).ConfigureAwait(false);
                verdict = await AuthorizeAsync(p, remoteEndpoint, remoteBlessings, remoteDischarges, ct).ConfigureAwait(false);

                (localBlessings, localDischarges) = LocalCredentials(p, verdict.AcceptedNames);
                await channel.WriteAsync(SignedAuth(p.Principal, localBlessings, localDischarges, transcript, role), ct).ConfigureAwait(false);
                var answer = await channel.ReadAsync(ct).ConfigureAwait(false);
                if (answer is not AuthAccepted)
                {
                    throw Unexpected(answer, "AuthAccepted");
                }
            }

            var (peerMayOpenFlows, trustedUntil) = await JudgeTrustAsync(p, remoteEndpoint, remoteBlessings, remoteDischarges, verdict, ct).ConfigureAwait(false);

            return new HandshakeResult
            {
                Role = role,
                Version = version,
                SendCipher = send,
                ReceiveCipher = receive,
                LocalEndpoint = p.LocalEndpoint,
                RemoteEndpoint = remoteEndpoint,
                LocalBlessings = localBlessings,
                LocalDischarges = localDischarges,
                RemoteBlessings = remoteBlessings,
                RemoteDischarges = remoteDischarges,
                RemoteBlessingNames = verdict.AcceptedNames,
                RemoteMtu = remoteSetup.Mtu,
                RemoteSharedCredit = remoteSetup.SharedCredit,
                PeerMayOpenFlows = peerMayOpenFlows,
                PeerTrustedUntil = trustedUntil,
            };
        }
        catch (FlowException e) when (e.Data["peer"] is null && e.Code != FlowErrorCode.Network)
        {
            // Tell the peer why, so it reports the cause (a refusal, a bad signature) rather than a dropped connection.
            await TrySendAsync(channel, Refusal(p, connection, role, e)).ConfigureAwait(false);
            send.Dispose();
            receive.Dispose();
            throw;
        }
        catch
        {
            send.Dispose();
            receive.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes the acceptor's Auth. A dialer that refused the acceptor's Setup sent its reason in the clear and hung up,
    /// perhaps before this write: then the write fails, and the reason, already received, is what to report.
    /// </summary>
    private static async ValueTask WriteFirstRecordAsync(SecureHandshakeChannel channel, Message message, CancellationToken ct)
    {
        try
        {
            await channel.WriteAsync(message, ct).ConfigureAwait(false);
        }
        catch (FlowException e) when (e.Code == FlowErrorCode.Network)
        {
            Message? reason = null;
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                cts.CancelAfter(TimeSpan.FromSeconds(1));
                reason = await channel.ReadAsync(cts.Token).ConfigureAwait(false);
            }
            catch (FlowException read) when (read.Data["peer"] is not true)
            {
                // Nothing explains the failed write (a plaintext TearDown would have come out as the peer's error).
            }
            catch (OperationCanceledException)
            {
                // Nor does anything arrive.
            }

            if (reason is TearDown down)
            {
                throw PeerClosed(down);
            }

            throw;
        }
    }

    internal static ValueTask<PeerAuthorization> AuthorizeAsync(
        ConnectionSettings p, Endpoint remoteEndpoint, Blessings blessings, Discharges discharges, CancellationToken ct) =>
        AuthorizeWithAsync(p.Authorizer, p, remoteEndpoint, blessings, discharges, ct);

    private static async ValueTask<PeerAuthorization> AuthorizeWithAsync(
        IPeerAuthorizer authorizer, ConnectionSettings p, Endpoint remoteEndpoint, Blessings blessings, Discharges discharges, CancellationToken ct)
    {
        var context = new PeerAuthorizationContext(
            p.LocalEndpoint, remoteEndpoint, blessings, discharges, p.Options.TimeProvider.GetUtcNow());
        return await authorizer.AuthorizePeerAsync(context, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// What the peer judged by <paramref name="verdict"/> may do here, and until when: whether it may open flows, and
    /// the earliest expiry on the names it was accepted under. The handshake settles both; a discharge refresh settles
    /// them again with the new discharges.
    /// </summary>
    internal static async ValueTask<(bool PeerMayOpenFlows, DateTimeOffset? TrustedUntil)> JudgeTrustAsync(
        ConnectionSettings p, Endpoint remoteEndpoint, Blessings blessings, Discharges discharges, PeerAuthorization verdict, CancellationToken ct)
    {
        var opener = await JudgeOpenerAsync(p, remoteEndpoint, blessings, discharges, verdict, ct).ConfigureAwait(false);
        IReadOnlyCollection<string> trustedNames = opener is null || ReferenceEquals(opener, verdict)
            ? verdict.AcceptedNames
            : [.. verdict.AcceptedNames.Union(opener.AcceptedNames, StringComparer.Ordinal)];
        return (opener is not null, BlessingExpiry.Of(blessings, discharges, trustedNames));
    }

    /// <summary>
    /// The verdict on the peer as an opener of flows (<see cref="ConnectionSettings.AcceptorAuthorizer"/>), reached
    /// before the connection starts reading, so the read loop only reads it; null when the peer may open none. Its
    /// refusal leaves the connection up (this side may still open flows to the peer) and goes to the log in full.
    /// </summary>
    private static async ValueTask<PeerAuthorization?> JudgeOpenerAsync(
        ConnectionSettings p, Endpoint remoteEndpoint, Blessings blessings, Discharges discharges, PeerAuthorization verdict, CancellationToken ct)
    {
        if (p.AcceptedFlows is null || p.AcceptorAuthorizer is not { } acceptor || ReferenceEquals(acceptor, p.Authorizer))
        {
            return verdict;
        }

        try
        {
            return await AuthorizeWithAsync(acceptor, p, remoteEndpoint, blessings, discharges, ct).ConfigureAwait(false);
        }
        catch (FlowException e)
        {
            LogFlowsRefused(p.Logger, remoteEndpoint, e.Code, e.Message);
            return null;
        }
    }

    /// <summary>
    /// What this side presents: its key alone (nameless blessings) when the settings ask for it or when the authorizer
    /// picked empty blessings, as Vanadium does for dial-only conns and unblessed principals; else the authorizer's pick.
    /// </summary>
    private static (Blessings, Discharges) LocalCredentials(ConnectionSettings p, IReadOnlyList<string> peerNames)
    {
        var (blessings, discharges) = p.PresentNamelessBlessings ? (Blessings.Empty, Discharges.Empty) : p.Authorizer.BlessingsForPeer(peerNames);
        return blessings.IsEmpty ? (Blessings.Nameless(p.Principal.PublicKey), Discharges.Empty) : (blessings, discharges);
    }

    private static Auth SignedAuth(Principal principal, Blessings blessings, Discharges discharges, byte[] transcript, HandshakeRole role)
    {
        if (!principal.PublicKey.Equals(blessings.PublicKey))
        {
            throw new FlowException(FlowErrorCode.Auth, "The blessings to present do not belong to this principal.");
        }

        var signature = principal.Sign(SignaturePurpose, SignedBytes(transcript, role));
        var dischargeWriter = new ArrayBufferWriter<byte>();
        discharges.Encode(dischargeWriter);
        return new Auth(
            new ReadOnlySequence<byte>(blessings.ToBytes()),
            new ReadOnlySequence<byte>(dischargeWriter.WrittenMemory),
            new ReadOnlySequence<byte>(signature));
    }

    private static async ValueTask<(Blessings, Discharges)> ReadAuthAsync(
        SecureHandshakeChannel channel, byte[] transcript, HandshakeRole peerRole, CancellationToken ct)
    {
        var message = await channel.ReadAsync(ct).ConfigureAwait(false);
        if (message is not Auth auth)
        {
            throw Unexpected(message, "Auth");
        }

        var blessings = Blessings.Decode(Contiguous(auth.Blessings));
        var discharges = Discharges.Decode(Contiguous(auth.Discharges));
        if (blessings.IsEmpty || blessings.PublicKey is null)
        {
            throw new FlowException(FlowErrorCode.Auth, "The peer presented no blessings.");
        }

        if (!blessings.PublicKey.Verify(SignaturePurpose, SignedBytes(transcript, peerRole), auth.Signature.ToArray()))
        {
            throw new FlowException(FlowErrorCode.Auth, "The peer's signature over the handshake does not verify.");
        }

        return (blessings, discharges);
    }

    private static byte[] SignedBytes(byte[] transcript, HandshakeRole role)
    {
        var bytes = new byte[transcript.Length + 1];
        transcript.CopyTo(bytes, 0);
        bytes[^1] = (byte)role;
        return bytes;
    }

    private static byte[] TranscriptHash(byte[] dialerSetup, byte[] acceptorSetup)
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

    /// <summary>The bytes as one span: the message's own memory when it is one segment (the usual case), else a copy.</summary>
    private static ReadOnlySpan<byte> Contiguous(in ReadOnlySequence<byte> bytes) => bytes.IsSingleSegment ? bytes.FirstSpan : bytes.ToArray();

    private static byte[] DeriveSharedSecret(ECDiffieHellman ephemeral, ReadOnlySequence<byte> peerKeyBytes)
    {
        if (peerKeyBytes.Length is 0 or > 512)
        {
            throw new FlowException(FlowErrorCode.Auth, "The peer's ephemeral key is missing or oversized.");
        }

        try
        {
            using var peer = ECDiffieHellman.Create();
            peer.ImportSubjectPublicKeyInfo(Contiguous(peerKeyBytes), out var read);
            if (read != peerKeyBytes.Length || peer.KeySize != 256)
            {
                throw new FlowException(FlowErrorCode.Auth, "The peer's ephemeral key is not a P-256 key.");
            }

            // PublicKey is a new object holding its own native key: disposed here, not left to the finalizer thread,
            // which the handshake benchmark showed busy freeing keys on one of the two cores.
            using var peerPublicKey = peer.PublicKey;
            return ephemeral.DeriveRawSecretAgreement(peerPublicKey);
        }
        catch (Exception e) when (e is CryptographicException or PlatformNotSupportedException)
        {
            // A key on a curve the platform does not know raises PlatformNotSupportedException, not a CryptographicException.
            throw new FlowException(FlowErrorCode.Auth, "The peer's ephemeral key is invalid.", e);
        }
    }

    private static (RecordCipher Send, RecordCipher Receive) DeriveCiphers(
        byte[] secret, byte[] transcript, CipherSuite suite, HandshakeRole role, ulong maxRecords)
    {
        var prk = HKDF.Extract(HashAlgorithmName.SHA256, secret, transcript);
        RecordCipher Make(string direction)
        {
            Span<byte> key = stackalloc byte[32];
            Span<byte> iv = stackalloc byte[12];
            HKDF.Expand(HashAlgorithmName.SHA256, prk, key, Encoding.ASCII.GetBytes($"flow v1 {direction} key {suite}"));
            HKDF.Expand(HashAlgorithmName.SHA256, prk, iv, Encoding.ASCII.GetBytes($"flow v1 {direction} iv"));
            var cipher = new RecordCipher(suite, key, iv, maxRecords);
            CryptographicOperations.ZeroMemory(key);
            return cipher;
        }

        var dialerToAcceptor = Make("dialer->acceptor");
        var acceptorToDialer = Make("acceptor->dialer");
        CryptographicOperations.ZeroMemory(prk);
        return role == HandshakeRole.Dialer ? (dialerToAcceptor, acceptorToDialer) : (acceptorToDialer, dialerToAcceptor);
    }

    private static CipherSuite ChooseCipher(byte[] dialerPreference, byte[] acceptorSupported)
    {
        foreach (var id in dialerPreference)
        {
            if (Array.IndexOf(acceptorSupported, id) >= 0 && Enum.IsDefined((CipherSuite)id))
            {
                return (CipherSuite)id;
            }
        }

        throw new FlowException(FlowErrorCode.BadState, "The two sides share no cipher suite.");
    }

    private static Endpoint ParseEndpoint(string text, string what)
    {
        try
        {
            return Endpoint.Parse(text);
        }
        catch (FlowException e)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"The peer sent a malformed {what}: {e.Message}", e);
        }
    }

    private static Setup DecodeSetup(byte[] bytes)
    {
        var message = DecodeWhole(new ReadOnlySequence<byte>(bytes));
        return message switch
        {
            Setup setup => setup,
            TearDown down => throw PeerClosed(down),
            _ => throw Unexpected(message, "Setup"),
        };
    }

    internal static Message DecodeWhole(ReadOnlySequence<byte> bytes)
    {
        if (!MessageCodec.TryRead(bytes, MaxHandshakeMessage, out var message, out var consumed) || !consumed.Equals(bytes.End))
        {
            throw new FlowException(FlowErrorCode.BadArg, "A handshake frame does not hold exactly one message.");
        }

        return message;
    }

    private static FlowException Unexpected(Message message, string expected) => message is TearDown down
        ? PeerClosed(down)
        : new FlowException(FlowErrorCode.BadArg, $"Expected {expected} during the handshake, got {message.GetType().Name}.");

    private static FlowException PeerClosed(TearDown down)
    {
        var e = new FlowException(down.Code, "The peer closed the handshake: " + down.Reason);
        e.Data["peer"] = true; // already the peer's own verdict: not to be echoed back
        return e;
    }

    /// <summary>A failure before keys exist, to be reported to the peer in plaintext.</summary>
    private sealed class PlaintextPhaseException(FlowException error) : Exception(error.Message, error)
    {
        public FlowException Error { get; } = error;
    }

    private static byte[] Encode(Message message)
    {
        var writer = new ArrayBufferWriter<byte>(MessageCodec.GetEncodedLength(message));
        MessageCodec.Write(writer, message);
        return writer.WrittenSpan.ToArray();
    }

    private static async ValueTask WritePlainAsync(IFramedConnection connection, byte[] payload, CancellationToken ct)
    {
        payload.CopyTo(connection.GetFrameBuffer(payload.Length));
        connection.CommitFrame();
        await connection.FlushAsync(ct).ConfigureAwait(false);
    }

    private static async ValueTask<byte[]> ReadPlainAsync(IFramedConnection connection, CancellationToken ct)
    {
        var frame = await connection.ReadFrameAsync(ct).ConfigureAwait(false);
        if (frame.IsCompleted)
        {
            throw new FlowException(FlowErrorCode.Network, "The peer closed the connection during the handshake.");
        }

        if (frame.Payload.Length > MaxHandshakeMessage)
        {
            throw new FlowException(FlowErrorCode.BadArg, "A handshake frame is larger than any handshake message.");
        }

        return frame.Payload.ToArray();
    }

    private static async ValueTask TrySendAsync(SecureHandshakeChannel channel, Message message)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await channel.WriteAsync(message, cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FlowException or OperationCanceledException)
        {
            // Telling the peer why is a courtesy; the refusal stands either way.
        }
    }

    /// <summary>Sends and receives single encrypted messages, one per record, during the handshake's second half.</summary>
    private sealed class SecureHandshakeChannel(IFramedConnection connection, RecordCipher send, RecordCipher receive)
    {
        public async ValueTask WriteAsync(Message message, CancellationToken ct)
        {
            var plaintext = Encode(message);
            var frame = connection.GetFrameBuffer(plaintext.Length + RecordLayout.TagSize);
            send.Seal(plaintext, frame.Span);
            connection.CommitFrame();
            await connection.FlushAsync(ct).ConfigureAwait(false);
        }

        public async ValueTask<Message> ReadAsync(CancellationToken ct)
        {
            var record = await ReadPlainAsync(connection, ct).ConfigureAwait(false);
            var plaintext = new byte[Math.Max(0, record.Length - RecordLayout.TagSize)];
            try
            {
                receive.Open(record, plaintext);
            }
            catch (FlowException) when (PlaintextTearDown(record) is { } down)
            {
                // A peer that could not accept this side's Setup has no keys and says why in the clear (RunCoreAsync),
                // while this side, having accepted the peer's Setup, already expects records. The frame was going to
                // end the handshake anyway (it fails to open), so taking its code costs nothing.
                throw PeerClosed(down);
            }

            return DecodeWhole(new ReadOnlySequence<byte>(plaintext));
        }

        private static TearDown? PlaintextTearDown(byte[] frame)
        {
            try
            {
                return DecodeWhole(new ReadOnlySequence<byte>(frame)) as TearDown;
            }
            catch (FlowException)
            {
                return null;
            }
        }
    }
}
