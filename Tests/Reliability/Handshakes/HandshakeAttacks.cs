using System.Formats.Asn1;
using System.Security.Cryptography;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Messages;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Reliability.Handshakes;

/// <summary>
/// The adversarial handshake matrix (issue 19 item 2; docs/reliability.md lists each family and its expected
/// endings): every handshake message with each byte flipped in turn and truncated at each length, messages replayed
/// from an earlier session, reflected to their sender, mismatched version ranges, invalid and off-curve ephemeral
/// keys, signatures that do not belong, blessings from an untrusted root or expired, and a man in the middle who
/// swaps the ephemeral keys.
/// </summary>
internal static class HandshakeAttacks
{
    /// <summary>The handshake's messages: who sends each, and its number among that side's frames.</summary>
    public static readonly (Side From, int Index, string Name)[] Messages =
    [
        (Side.Dialer, 0, "dialer Setup"),
        (Side.Acceptor, 0, "acceptor Setup"),
        (Side.Acceptor, 1, "acceptor Auth"),
        (Side.Dialer, 1, "dialer Auth"),
        (Side.Acceptor, 2, "AuthAccepted"),
    ];

    public static readonly string[] Families =
    [
        .. Messages.Select(m => "flip " + m.Name),
        .. Messages.Select(m => "truncate " + m.Name),
        "replay", "reflect", "version", "key", "signature", "trust", "mitm",
    ];

    public static IEnumerable<HandshakeAttack> Of(string family, HandshakeRecording clean)
    {
        foreach (var (from, index, name) in Messages)
        {
            if (family == "flip " + name)
            {
                return Flips(family, from, index, clean.Of(from)[index]);
            }

            if (family == "truncate " + name)
            {
                return Truncations(family, from, index, clean.Of(from)[index]);
            }
        }

        return family switch
        {
            "replay" => Replays(clean),
            "reflect" => Reflections(),
            "version" => Versions(),
            "key" => Keys(),
            "signature" => Signatures(clean),
            "trust" => Trust(),
            "mitm" => MenInTheMiddle(),
            _ => throw new ArgumentOutOfRangeException(nameof(family), family, "not an attack family"),
        };
    }

    /// <summary>An attack that relays everything but frame <paramref name="index"/> of <paramref name="from"/>, which it changes.</summary>
    private static Func<AttackLink, CancellationToken, Task> Changing(Side from, int index, Func<byte[], byte[]> change) =>
        (link, ct) => link.RelayAsync(ct, (f, i, frame) => [(AttackLink.Other(f), f == from && i == index ? change(frame) : frame)]);

    /// <summary>How the sender of a broken message and its receiver must end.</summary>
    private static (Expect Dialer, Expect Acceptor) Broken(Side from, int index, Expect receiver)
    {
        var sender = index == 0 ? Expect.EchoesPeer : Expect.Fails(FlowErrorCode.Network);
        if (index == 2)
        {
            // The acceptor sent its last message: it has connected; the dialer's failure then closes the connection.
            sender = Expect.ConnectsThenCloses;
        }

        return from == Side.Dialer ? (sender, receiver) : (receiver, sender);
    }

    private static IEnumerable<HandshakeAttack> Flips(string family, Side from, int index, byte[] message)
    {
        var fields = index == 0 ? SetupLayout.FieldOfEachByte(message) : null;
        for (var at = 0; at < message.Length; at++)
        {
            var position = at;
            var mask = (byte)(1 << (at % 8));

            // A record's bytes are all covered by its tag: any change fails to open (FlowErrorCode.Network). A Setup's by field.
            var receiver = fields is null
                ? Expect.Fails(FlowErrorCode.Network)
                : Expect.Fails(SetupLayout.CodesForChanged(fields[at], AttackLink.Other(from)));
            var (dialer, acceptor) = Broken(from, index, receiver);
            yield return new HandshakeAttack(family, $"byte {at}{(fields is null ? "" : $" ({fields[at]})")} ^ 0x{mask:x2}", dialer, acceptor,
                Changing(from, index, frame =>
                {
                    var changed = frame.ToArray();
                    changed[position] ^= mask;
                    return changed;
                }));
        }
    }

    private static IEnumerable<HandshakeAttack> Truncations(string family, Side from, int index, byte[] message)
    {
        for (var length = 0; length < message.Length; length++)
        {
            var kept = length;
            var (dialer, acceptor) = Broken(from, index, Expect.Fails(index == 0 ? FlowErrorCode.BadArg : FlowErrorCode.Network));
            yield return new HandshakeAttack(family, $"{length} of {message.Length} bytes", dialer, acceptor,
                Changing(from, index, frame => frame[..kept]));
        }
    }

    private static IEnumerable<HandshakeAttack> Replays(HandshakeRecording earlier)
    {
        // Each message of this session replaced by the same message of an earlier one between the same principals.
        foreach (var (from, index, name) in Messages)
        {
            var old = earlier.Of(from)[index];
            var (dialer, acceptor) = index == 2
                ? (Expect.Fails(FlowErrorCode.Network), Expect.ConnectsThenCloses)
                : (Expect.Fails(FlowErrorCode.Network), Expect.Fails(FlowErrorCode.Network));
            yield return new HandshakeAttack("replay", $"the earlier session's {name}", dialer, acceptor, Changing(from, index, _ => old));
        }

        // The whole of one side of the earlier session played to a new peer: its records were sealed for other keys.
        yield return new HandshakeAttack("replay", "the earlier dialer, message for message", Expect.Played, Expect.Fails(FlowErrorCode.Network), async (link, ct) =>
        {
            await link.SendAsync(Side.Acceptor, earlier.Dialer[0], ct);
            for (var frames = 0; frames < 2 && await link.ReceiveAsync(Side.Acceptor, ct) is not null; frames++)
            {
            }

            await link.SendAsync(Side.Acceptor, earlier.Dialer[1], ct);
        });
        yield return new HandshakeAttack("replay", "the earlier acceptor, message for message", Expect.Fails(FlowErrorCode.Network), Expect.Played, async (link, ct) =>
        {
            await link.ReceiveAsync(Side.Dialer, ct);
            await link.SendAsync(Side.Dialer, earlier.Acceptor[0], ct);
            await link.SendAsync(Side.Dialer, earlier.Acceptor[1], ct);
        });
    }

    private static IEnumerable<HandshakeAttack> Reflections()
    {
        // A dialer that meets its own Setup finds its own routing ID where it dialed another's.
        yield return new HandshakeAttack("reflect", "the dialer's Setup back to it", Expect.Fails(FlowErrorCode.NotTrusted), Expect.Played, async (link, ct) =>
        {
            var setup = await link.ReceiveAsync(Side.Dialer, ct);
            await link.SendAsync(Side.Dialer, setup!, ct);
            await link.ReceiveAsync(Side.Dialer, ct);
        });

        // One that dials by address alone accepts the Setup, then waits for an Auth nobody can make: the attacker hangs up.
        yield return new HandshakeAttack("reflect", "the dialer's Setup back to a dialer expecting no routing ID", Expect.Fails(FlowErrorCode.Network), Expect.Played, async (link, ct) =>
        {
            var setup = await link.ReceiveAsync(Side.Dialer, ct);
            await link.SendAsync(Side.Dialer, setup!, ct);
            await link.CloseAsync(Side.Dialer);
        })
        { DialerExpectsRoutingId = false };

        // Records are sealed with a key per direction: the acceptor cannot open its own Auth.
        yield return new HandshakeAttack("reflect", "the acceptor's Setup and Auth back to it", Expect.Played, Expect.Fails(FlowErrorCode.Network), async (link, ct) =>
        {
            for (var frames = 0; frames < 2 && await link.ReceiveAsync(Side.Acceptor, ct) is { } frame; frames++)
            {
                await link.SendAsync(Side.Acceptor, frame, ct);
            }
        });
        yield return new HandshakeAttack("reflect", "the acceptor's Auth back to it instead of the dialer's", Expect.Fails(FlowErrorCode.Network), Expect.Fails(FlowErrorCode.Network),
            (link, ct) => link.RelayAsync(ct, (from, index, frame) => (from, index) switch
            {
                (Side.Acceptor, 1) => [(Side.Dialer, frame), (Side.Acceptor, frame)],
                (Side.Dialer, 1) => [],
                _ => [(AttackLink.Other(from), frame)],
            }));
        yield return new HandshakeAttack("reflect", "the dialer's Auth back to it instead of AuthAccepted", Expect.Fails(FlowErrorCode.Network), Expect.ConnectsThenCloses,
            (link, ct) => link.RelayAsync(ct, (from, index, frame) => (from, index) switch
            {
                (Side.Dialer, 1) => [(Side.Acceptor, frame), (Side.Dialer, frame)],
                (Side.Acceptor, 2) => [],
                _ => [(AttackLink.Other(from), frame)],
            }));
    }

    private static IEnumerable<HandshakeAttack> Versions()
    {
        static Func<byte[], byte[]> Range(ushort min, ushort max) => frame =>
            AttackerSession.Encode(AttackerSession.DecodeSetup(frame) with { MinVersion = min, MaxVersion = max });

        yield return new HandshakeAttack("version", "the dialer's range rewritten to 2-3", Expect.EchoesPeer, Expect.Fails(FlowErrorCode.BadState), Changing(Side.Dialer, 0, Range(2, 3)));
        yield return new HandshakeAttack("version", "the acceptor's range rewritten to 2-3", Expect.Fails(FlowErrorCode.BadState), Expect.EchoesPeer, Changing(Side.Acceptor, 0, Range(2, 3)));
        yield return new HandshakeAttack("version", "the dialer's range inverted to 1-0", Expect.EchoesPeer, Expect.Fails(FlowErrorCode.BadState), Changing(Side.Dialer, 0, Range(1, 0)));
        yield return new HandshakeAttack("version", "both ranges rewritten to 0-0", Expect.Fails(FlowErrorCode.BadState), Expect.Fails(FlowErrorCode.BadState),
            (link, ct) => link.RelayAsync(ct, (from, index, frame) => [(AttackLink.Other(from), index == 0 ? Range(0, 0)(frame) : frame)]));

        // A range that still overlaps negotiates the same version, but the transcript no longer matches.
        yield return new HandshakeAttack("version", "the dialer's range widened to 0-1", Expect.Fails(FlowErrorCode.Network), Expect.Fails(FlowErrorCode.Network), Changing(Side.Dialer, 0, Range(0, 1)));
    }

    private static IEnumerable<HandshakeAttack> Keys()
    {
        var genuine = AttackerSession.NewPublicKey();
        var point = genuine[^65..];
        var offCurve = point.ToArray();
        offCurve[^1] ^= 0x01;
        using var p384 = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP384);
        (string Name, byte[] Key)[] keys =
        [
            ("a point off the curve", P256Key(offCurve)),
            ("the all-zero point", P256Key([0x04, .. new byte[64]])),
            ("the point at infinity", P256Key([0x00])),
            ("a P-384 key", p384.ExportSubjectPublicKeyInfo()),
            ("a valid key with a byte after it", [.. genuine, 0]),
            ("91 bytes of noise", RandomNumberGenerator.GetBytes(genuine.Length)),
            ("no key", []),
            ("600 bytes", RandomNumberGenerator.GetBytes(600)),
        ];
        foreach (var from in new[] { Side.Dialer, Side.Acceptor })
        {
            foreach (var (name, key) in keys)
            {
                var (dialer, acceptor) = Broken(from, 0, Expect.Fails(FlowErrorCode.Auth));
                yield return new HandshakeAttack("key", $"{name} in the {from.ToString().ToLowerInvariant()}'s Setup", dialer, acceptor,
                    Changing(from, 0, frame => AttackerSession.WithEphemeralKey(frame, key)));
            }
        }
    }

    /// <summary>A P-256 SubjectPublicKeyInfo around <paramref name="point"/>, whatever it holds.</summary>
    private static byte[] P256Key(byte[] point)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier("1.2.840.10045.2.1");
                writer.WriteObjectIdentifier("1.2.840.10045.3.1.7");
            }

            writer.WriteBitString(point);
        }

        return writer.Encode();
    }

    private static IEnumerable<HandshakeAttack> Signatures(HandshakeRecording clean)
    {
        // An impostor does the key exchange honestly, then presents an Auth it made: blessings and a signature.
        (string Name, Func<byte[], HandshakeRole, Auth> Make, FlowErrorCode Code)[] auths =
        [
            ("the real peer's blessings signed by another key", (t, role) => Presenting(RealPeer(role), AttackIdentities.Impostor.Sign(AttackerSession.SignaturePurpose, AttackerSession.SignedBytes(t, role))), FlowErrorCode.Auth),
            ("the real peer's blessings with its signature from another session", (t, role) => Presenting(RealPeer(role), RealPeer(role).Sign(AttackerSession.SignaturePurpose, AttackerSession.SignedBytes(RandomNumberGenerator.GetBytes(t.Length), role))), FlowErrorCode.Auth),
            ("its own blessings signed for the other role", (t, role) => Presenting(AttackIdentities.Impostor, AttackIdentities.Impostor.Sign(AttackerSession.SignaturePurpose, AttackerSession.SignedBytes(t, Opposite(role)))), FlowErrorCode.Auth),
            ("its own blessings signed for another purpose", (t, role) => Presenting(AttackIdentities.Impostor, AttackIdentities.Impostor.Sign("flow.other.v1", AttackerSession.SignedBytes(t, role))), FlowErrorCode.Auth),
            ("an empty signature", (_, role) => Presenting(RealPeer(role), []), FlowErrorCode.Auth),
            ("64 zero bytes as signature", (_, role) => Presenting(RealPeer(role), new byte[64]), FlowErrorCode.Auth),

            // The control: a correct signature by the impostor's own key gets past the signature check to the
            // authorizer, which wants root:server or root:client.
            ("its own blessings, correctly signed", (t, role) => Presenting(AttackIdentities.Impostor, AttackIdentities.Impostor.Sign(AttackerSession.SignaturePurpose, AttackerSession.SignedBytes(t, role))), FlowErrorCode.NotTrusted),
        ];
        foreach (var (name, auth, code) in auths)
        {
            yield return new HandshakeAttack("signature", "impostor acceptor: " + name, Expect.Fails(code) with { ReasonHolds = code == FlowErrorCode.Auth ? "signature" : null }, Expect.Played,
                (link, ct) => ImpersonateAsync(link, HandshakeRole.Acceptor, clean.Acceptor[0], auth, code, ct));
            yield return new HandshakeAttack("signature", "impostor dialer: " + name, Expect.Played, Expect.Fails(code) with { ReasonHolds = code == FlowErrorCode.Auth ? "signature" : null },
                (link, ct) => ImpersonateAsync(link, HandshakeRole.Dialer, clean.Dialer[0], auth, code, ct));
        }
    }

    private static Principal RealPeer(HandshakeRole impersonated) =>
        impersonated == HandshakeRole.Acceptor ? AttackIdentities.Server : AttackIdentities.Client;

    private static HandshakeRole Opposite(HandshakeRole role) => role == HandshakeRole.Dialer ? HandshakeRole.Acceptor : HandshakeRole.Dialer;

    private static Auth Presenting(Principal blessed, byte[] signature) => AttackerSession.AuthMessage(blessed.DefaultBlessings, signature);

    /// <summary>
    /// Plays <paramref name="role"/> against the real other side: a Setup like <paramref name="setupTemplate"/> (the
    /// real peer's, so endpoints and limits pass) with the impostor's own ephemeral key, then the Auth made from the
    /// transcript. The real side must answer with a sealed TearDown carrying <paramref name="code"/>.
    /// </summary>
    private static async Task ImpersonateAsync(
        AttackLink link, HandshakeRole role, byte[] setupTemplate, Func<byte[], HandshakeRole, Auth> makeAuth, FlowErrorCode code, CancellationToken ct)
    {
        var real = role == HandshakeRole.Acceptor ? Side.Dialer : Side.Acceptor;
        var (key, publicKey) = AttackerSession.NewEphemeral();
        using var _ = key;
        var setup = AttackerSession.WithEphemeralKey(setupTemplate, publicKey);
        await link.SendAsync(real, setup, ct);
        var realSetup = await link.ReceiveAsync(real, ct) ?? throw new InvalidOperationException("The real side sent no Setup.");
        using var session = AttackerSession.Create(role, key, setup, realSetup);
        if (role == HandshakeRole.Dialer && await link.ReceiveAsync(real, ct) is { } acceptorAuth && session.Open(acceptorAuth) is not Auth)
        {
            throw new InvalidOperationException("The real acceptor's first record is not its Auth.");
        }

        await link.SendAsync(real, session.Seal(makeAuth(session.Transcript, role)), ct);
        var answer = await link.ReceiveAsync(real, ct);
        if (answer is null || session.Open(answer) is not TearDown down || down.Code != code)
        {
            throw new InvalidOperationException($"The real side did not answer the impostor with a TearDown({code}).");
        }
    }

    private static IEnumerable<HandshakeAttack> Trust()
    {
        var refused = Expect.Fails(FlowErrorCode.NotTrusted);
        yield return new HandshakeAttack("trust", "the acceptor blessed by an untrusted root", refused with { ReasonHolds = "not recognised" }, Expect.EchoesPeer, Relay)
        { AcceptorPrincipal = AttackIdentities.ServerOfStranger };
        yield return new HandshakeAttack("trust", "the dialer blessed by an untrusted root", Expect.EchoesPeer, refused with { ReasonHolds = "not recognised" }, Relay)
        { DialerPrincipal = AttackIdentities.ClientOfStranger };
        yield return new HandshakeAttack("trust", "the acceptor's blessing expired", refused with { ReasonHolds = "expired" }, Expect.EchoesPeer, Relay)
        { AcceptorPrincipal = AttackIdentities.ServerExpired };
        yield return new HandshakeAttack("trust", "the dialer's blessing expired", Expect.EchoesPeer, refused with { ReasonHolds = "expired" }, Relay)
        { DialerPrincipal = AttackIdentities.ClientExpired };
    }

    private static Task Relay(AttackLink link, CancellationToken ct) => link.RelayAsync(ct);

    private static IEnumerable<HandshakeAttack> MenInTheMiddle()
    {
        // Both keys swapped and every record re-sealed: each side completes a key exchange, with the attacker, but
        // the transcripts differ, so the acceptor's signature fails at the dialer, which says so (re-sealed to the acceptor).
        yield return new HandshakeAttack("mitm", "both ephemeral keys swapped, records re-sealed", Expect.Fails(FlowErrorCode.Auth) with { ReasonHolds = "signature" }, Expect.EchoesPeer,
            (link, ct) => InTheMiddleAsync(link, reflectAcceptorAuth: false, ct));

        // The same, reflecting the acceptor's own Auth back to it: the role byte in what it signed gives it away.
        yield return new HandshakeAttack("mitm", "keys swapped, the acceptor's Auth re-sealed back to it", Expect.Fails(FlowErrorCode.Network), Expect.Fails(FlowErrorCode.Auth) with { ReasonHolds = "signature" },
            (link, ct) => InTheMiddleAsync(link, reflectAcceptorAuth: true, ct));

        // Only the dialer's key swapped: at best the attacker shares a secret with the acceptor alone; records pass unchanged
        // and open on neither side.
        var attackerKey = AttackerSession.NewPublicKey();
        yield return new HandshakeAttack("mitm", "only the dialer's key swapped", Expect.Fails(FlowErrorCode.Network), Expect.Fails(FlowErrorCode.Network),
            Changing(Side.Dialer, 0, frame => AttackerSession.WithEphemeralKey(frame, attackerKey)));
    }

    private static async Task InTheMiddleAsync(AttackLink link, bool reflectAcceptorAuth, CancellationToken ct)
    {
        var dialerSetup = await link.ReceiveAsync(Side.Dialer, ct) ?? throw new InvalidOperationException("No dialer Setup.");
        var acceptorSetup = await link.ReceiveAsync(Side.Acceptor, ct) ?? throw new InvalidOperationException("No acceptor Setup.");
        var (towardAcceptorKey, towardAcceptorPublic) = AttackerSession.NewEphemeral();
        var (towardDialerKey, towardDialerPublic) = AttackerSession.NewEphemeral();
        using var keys = new CompositeDisposable(towardAcceptorKey, towardDialerKey);
        var forgedDialerSetup = AttackerSession.WithEphemeralKey(dialerSetup, towardAcceptorPublic);
        var forgedAcceptorSetup = AttackerSession.WithEphemeralKey(acceptorSetup, towardDialerPublic);
        await link.SendAsync(Side.Acceptor, forgedDialerSetup, ct);
        await link.SendAsync(Side.Dialer, forgedAcceptorSetup, ct);
        using var withAcceptor = AttackerSession.Create(HandshakeRole.Dialer, towardAcceptorKey, forgedDialerSetup, acceptorSetup);
        using var withDialer = AttackerSession.Create(HandshakeRole.Acceptor, towardDialerKey, forgedAcceptorSetup, dialerSetup);

        var acceptorAuth = await link.ReceiveAsync(Side.Acceptor, ct) ?? throw new InvalidOperationException("No acceptor Auth.");
        var message = withAcceptor.Open(acceptorAuth);
        if (reflectAcceptorAuth)
        {
            await link.SendAsync(Side.Acceptor, withAcceptor.Seal(message), ct);
            await link.ReceiveAsync(Side.Acceptor, ct);
            await link.CloseAsync(Side.Dialer);
            return;
        }

        // Everything else both ways, re-sealed, until both sides end.
        await link.SendAsync(Side.Dialer, withDialer.Seal(message), ct);
        await Task.WhenAll(
            ResealAsync(link, Side.Dialer, withDialer, withAcceptor, ct),
            ResealAsync(link, Side.Acceptor, withAcceptor, withDialer, ct));
    }

    private static async Task ResealAsync(AttackLink link, Side from, AttackerSession opener, AttackerSession sealer, CancellationToken ct)
    {
        while (await link.ReceiveAsync(from, ct) is { } record)
        {
            await link.SendAsync(AttackLink.Other(from), sealer.Seal(opener.Open(record)), ct);
        }

        await link.CloseAsync(AttackLink.Other(from));
    }

    private sealed class CompositeDisposable(params IDisposable[] parts) : IDisposable
    {
        public void Dispose()
        {
            foreach (var part in parts)
            {
                part.Dispose();
            }
        }
    }
}
