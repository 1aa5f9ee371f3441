using System.Buffers;
using FlowOrleans.Fuzz.Handshake;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Messages;
using FlowOrleans.Transport.Security;
using HandshakeProtocol = FlowOrleans.Transport.Connections.Handshake;

namespace FlowOrleans.Fuzz.Targets;

/// <summary>
/// The handshake (docs/architecture.md 3.2) of one side, dialer or acceptor, against a peer played from the fuzz input
/// (<see cref="PeerScript"/>) over an in-memory framed connection. The first input byte configures the side under
/// test: bit 0 its role (dialer, acceptor), bit 1 its authorizer (everyone, or only "fuzzroot:peer"), bit 2 whether a
/// dialer expects the peer's routing ID, bits 3-4 its cipher list. The rest is the peer's script.
/// Invariants: the handshake ends, within a bound of time and of allocation, either in success, which requires the
/// peer to have proved the fuzzing peer key (nobody else's signature can pass), or in a <see cref="FlowException"/>
/// with a code the protocol documents for a failed handshake (BadArg, Auth, NotTrusted, Network, BadState), or with
/// the code of the TearDown the peer sent; never another exception.
/// </summary>
internal sealed class HandshakeTarget : FuzzTarget
{
    // Far above a handshake's own needs (20-60 KiB measured, the fuzzing peer's signing and sealing included), far
    // below what trusting a declared size would cost.
    private const long FixedAllocation = 2 * 1024 * 1024;
    private const long AllocationPerByte = 64;

    private static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(45);
    private static readonly RoutingId PeerRoutingId = RoutingId.Parse("0000000000000000000000000000feed");
    private static readonly Endpoint PeerEndpoint = Endpoint.Create("memory", "peer", PeerRoutingId);
    private static readonly Endpoint TestedEndpoint = Endpoint.Create("memory", "tested", RoutingId.Parse("0000000000000000000000000000beef"));
    private static readonly FlowErrorCode[] HandshakeCodes =
        [FlowErrorCode.BadArg, FlowErrorCode.Auth, FlowErrorCode.NotTrusted, FlowErrorCode.Network, FlowErrorCode.BadState];

    private static readonly CipherSuite[][] CipherLists =
    [
        [CipherSuite.Aes256Gcm, CipherSuite.ChaCha20Poly1305],
        [CipherSuite.ChaCha20Poly1305, CipherSuite.Aes256Gcm],
        [CipherSuite.Aes256Gcm],
        [CipherSuite.ChaCha20Poly1305],
    ];

    private static readonly Principal Tested = CreateTestedPrincipal();

    public override string Name => "handshake";

    public override int MaxLength => 16 * 1024;

    public override void Run(ReadOnlySpan<byte> input) => _ = RunHandshake(input);

    /// <summary>Runs one handshake and checks its invariants; returns null when it succeeded, else how it failed.</summary>
    public static FlowException? RunHandshake(ReadOnlySpan<byte> input)
    {
        var bytes = input.ToArray();
        byte config = bytes.Length > 0 ? bytes[0] : (byte)0;
        var role = (config & 1) == 0 ? HandshakeRole.Dialer : HandshakeRole.Acceptor;
        var parameters = new ConnectionSettings
        {
            Principal = Tested,
            Authorizer = (config & 2) == 0
                ? PeerAuthorizers.AllowEveryone(Tested)
                : PeerAuthorizers.RequireBlessings(Tested, FuzzIdentities.PeerName),
            LocalEndpoint = TestedEndpoint,
            RemoteEndpoint = role == HandshakeRole.Dialer && (config & 4) != 0 ? PeerEndpoint : null,
            Options = new ConnectionOptions
            {
                Ciphers = CipherLists[(config >> 3) & 3],
                // The peer never keeps the side under test waiting (its reads are answered at once), so the
                // handshake's own timeout must never be what ends it; HangLimit catches a handshake that waits anyway.
                HandshakeTimeout = TimeSpan.FromMinutes(10),
            },
        };

        using var script = new PeerScript(bytes, Math.Min(1, bytes.Length), role == HandshakeRole.Dialer ? HandshakeRole.Acceptor : HandshakeRole.Dialer);
        var connection = new ScriptedConnection(script);
        Task<HandshakeResult>? run = null;
        Invariant.AllocatesAtMost(
            FixedAllocation + (AllocationPerByte * bytes.Length),
            "the handshake",
            () => run = HandshakeProtocol.RunAsync(connection, role, parameters, CancellationToken.None).AsTask());
        if (!run!.IsCompleted && !((IAsyncResult)run).AsyncWaitHandle.WaitOne(HangLimit))
        {
            throw new InvariantViolationException($"the {role} handshake did not end within {HangLimit} although the peer had closed");
        }

        if (run.IsCompletedSuccessfully)
        {
            var result = run.Result;
            result.SendCipher.Dispose();
            result.ReceiveCipher.Dispose();
            Invariant.True(
                script.HasKeys && FuzzIdentities.PeerPublicKey.Equals(result.RemoteBlessings.PublicKey),
                $"the {role} handshake succeeded with a peer holding key {result.RemoteBlessings.PublicKey}, which never signed");
            return null;
        }

        var error = run.Exception!.InnerException!;
        if (error is not FlowException flow)
        {
            throw new InvariantViolationException($"the {role} handshake failed with {error.GetType().Name}, not a FlowException", error);
        }

        bool fromPeer = flow.Data["peer"] is true && Enum.IsDefined(flow.Code);
        if (!fromPeer && Array.IndexOf(HandshakeCodes, flow.Code) < 0)
        {
            throw new InvariantViolationException($"the {role} handshake failed with {flow.Code}, which no handshake failure is documented to give", flow);
        }

        return flow;
    }

    private static Principal CreateTestedPrincipal()
    {
        var principal = Principal.CreateInMemory();
        principal.DefaultBlessings = principal.BlessSelf("tested");
        principal.Roots.Add(FuzzIdentities.RootPublicKey, new BlessingPattern(FuzzIdentities.RootName));
        return principal;
    }

    /// <summary>Seeds named "valid-*" are complete, correct handshakes: the self-test checks they succeed.</summary>
    public override IEnumerable<KeyValuePair<string, byte[]>> Seeds()
    {
        var (caveated, discharges) = FuzzIdentities.PeerBlessingsWithThirdPartyCaveat();
        var expired = FuzzIdentities.Bless(FuzzIdentities.PeerPublicKey, Caveat.Expiry(new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero)));
        byte[] empty = [];
        byte[] authAccepted = Wire.Encode(AuthAccepted.Instance);
        byte[] forgedAuth = Wire.Encode(new Auth(
            new ReadOnlySequence<byte>(FuzzIdentities.PeerBlessings().ToBytes()),
            new ReadOnlySequence<byte>(Discharges.Empty.ToBytes()),
            new ReadOnlySequence<byte>(new byte[64])));

        foreach (var (name, config) in new[] { ("dialer", (byte)0), ("acceptor", (byte)1) })
        {
            bool dialer = config == 0;
            byte[] setup = PeerSetup();
            byte[][] finish = dialer ? [Command(PeerScript.SealedFrame, authAccepted)] : [];
            yield return new($"valid-{name}", Script(config, [Command(PeerScript.RawFrame, setup), Command(PeerScript.SignedAuth, empty, empty), .. finish]));
            yield return new($"valid-{name}-strict", Script((byte)(config | 2 | 4), [Command(PeerScript.RawFrame, setup), Command(PeerScript.SignedAuth, empty, empty), .. finish]));
            yield return new($"valid-{name}-chacha", Script((byte)(config | (3 << 3)), [Command(PeerScript.RawFrame, PeerSetup(ciphers: [2])), Command(PeerScript.SignedAuth, empty, empty), .. finish]));
            yield return new($"valid-{name}-discharged", Script((byte)(config | 2), [Command(PeerScript.RawFrame, setup), Command(PeerScript.SignedAuth, caveated.ToBytes(), discharges.ToBytes()), .. finish]));
            yield return new($"{name}-no-discharge", Script((byte)(config | 2), [Command(PeerScript.RawFrame, setup), Command(PeerScript.SignedAuth, caveated.ToBytes(), empty), .. finish]));
            yield return new($"{name}-expired", Script((byte)(config | 2), [Command(PeerScript.RawFrame, setup), Command(PeerScript.SignedAuth, expired.ToBytes(), empty), .. finish]));
            yield return new($"{name}-forged-signature", Script(config, [Command(PeerScript.RawFrame, setup), Command(PeerScript.SealedFrame, forgedAuth), .. finish]));
            yield return new($"{name}-teardown-instead-of-setup", Script(config, [Command(PeerScript.RawFrame, Wire.Encode(new TearDown(FlowErrorCode.NotTrusted, "no")))]));
            yield return new($"{name}-teardown-instead-of-auth", Script(config, [Command(PeerScript.RawFrame, setup), Command(PeerScript.SealedFrame, Wire.Encode(new TearDown(FlowErrorCode.Proxy, "no")))]));
            yield return new($"{name}-version-mismatch", Script(config, [Command(PeerScript.RawFrame, PeerSetup(minVersion: 2, maxVersion: 3))]));
            yield return new($"{name}-small-mtu", Script(config, [Command(PeerScript.RawFrame, PeerSetup(mtu: 512))]));
            yield return new($"{name}-no-common-cipher", Script(config, [Command(PeerScript.RawFrame, PeerSetup(ciphers: [7]))]));
            yield return new($"{name}-other-routing-id", Script((byte)(config | 4), [Command(PeerScript.RawFrame, PeerSetup(endpoint: "@6@memory@peer@@0000000000000000000000000000f00d@s@@@")), Command(PeerScript.SignedAuth, empty, empty), .. finish]));
            yield return new($"{name}-unsealed-auth", Script(config, [Command(PeerScript.RawFrame, setup), Command(PeerScript.RawFrame, forgedAuth)]));
            yield return new($"{name}-closes-after-setup", Script(config, [Command(PeerScript.RawFrame, setup), Command(PeerScript.Close)]));
        }

        yield return new("dialer-truncated-setup", Script(0, [Command(PeerScript.RawFrame, PeerSetup()[..40])]));
        yield return new("acceptor-empty", [1]);
    }

    private static byte[] PeerSetup(
        ushort minVersion = ProtocolVersions.Min, ushort maxVersion = ProtocolVersions.Max, uint mtu = 64 * 1024,
        byte[]? ciphers = null, string? endpoint = null) => Wire.Encode(new Setup(
            minVersion,
            maxVersion,
            new ReadOnlySequence<byte>(FuzzIdentities.PeerEphemeralPublicKey),
            endpoint ?? PeerEndpoint.ToString(),
            TestedEndpoint.ToString(),
            mtu,
            256 * 1024,
            new ReadOnlySequence<byte>(ciphers ?? [1, 2]),
            new ReadOnlySequence<byte>(new byte[16])));

    private static byte[] Command(byte op, params byte[][] chunks)
    {
        var bytes = new List<byte> { op };
        foreach (var chunk in chunks)
        {
            bytes.Add((byte)chunk.Length);
            bytes.Add((byte)(chunk.Length >> 8));
            bytes.AddRange(chunk);
        }

        return [.. bytes];
    }

    private static byte[] Script(byte config, byte[][] commands) => [config, .. commands.SelectMany(c => c)];
}
