using System.Security.Cryptography;
using System.Text;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Fuzz;

/// <summary>
/// Keys and blessings with fixed private keys, the same in every run, so signed bytes in the committed seed corpus
/// stay valid: a root authority ("fuzzroot"), a peer it blessed ("fuzzroot:peer"), a third-party discharger, and the
/// peer's fixed ephemeral key for the handshake. Fuzzing keys only: they protect nothing.
/// </summary>
internal static class FuzzIdentities
{
    public const string RootName = "fuzzroot";
    public const string PeerName = RootName + ":peer";

    public static readonly ECDsa RootKey = SigningKey("root");
    public static readonly ECDsa PeerKey = SigningKey("peer");
    public static readonly ECDsa DischargerKey = SigningKey("discharger");

    public static readonly PublicKey RootPublicKey = PublicKey.FromKey(RootKey);
    public static readonly PublicKey PeerPublicKey = PublicKey.FromKey(PeerKey);
    public static readonly PublicKey DischargerPublicKey = PublicKey.FromKey(DischargerKey);

    /// <summary>The peer's ephemeral key for the handshake's key exchange.</summary>
    public static readonly ECDiffieHellman PeerEphemeral = ECDiffieHellman.Create(Parameters("ephemeral"));

    public static readonly byte[] PeerEphemeralPublicKey = PeerEphemeral.ExportSubjectPublicKeyInfo();

    private static readonly Certificate RootCertificate = Certificate.Create(RootKey, default, RootName, RootPublicKey, []);

    /// <summary>"fuzzroot:peer", unconstrained.</summary>
    public static Blessings PeerBlessings() => Bless(PeerPublicKey, Caveat.Unconstrained);

    /// <summary>A chain from the root to <paramref name="key"/> named "fuzzroot:peer" under <paramref name="caveats"/>.</summary>
    public static Blessings Bless(PublicKey key, params Caveat[] caveats)
    {
        var link = Certificate.Create(RootKey, RootCertificate.ChainDigest, "peer", key, caveats);
        return Blessings.FromChains([[RootCertificate, link]]);
    }

    /// <summary>"fuzzroot:peer" under an expiry, a third-party caveat of the discharger, and the discharge that meets it.</summary>
    public static (Blessings Blessings, Discharges Discharges) PeerBlessingsWithThirdPartyCaveat()
    {
        var farFuture = new DateTimeOffset(2200, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var thirdParty = ThirdPartyCaveat.Create(
            DischargerPublicKey, "/discharger", ThirdPartyRequirements.ReportServer, Caveat.Expiry(farFuture));
        var blessings = Bless(PeerPublicKey, Caveat.Expiry(farFuture), thirdParty);
        var discharge = Discharge.Mint(DischargerKey, thirdParty.DischargeId, [Caveat.Expiry(farFuture)]);
        return (blessings, Discharges.Create(discharge));
    }

    private static ECDsa SigningKey(string name) => ECDsa.Create(Parameters(name));

    private static ECParameters Parameters(string name) => new()
    {
        Curve = ECCurve.NamedCurves.nistP256,
        D = SHA256.HashData(Encoding.UTF8.GetBytes("FlowOrleans fuzzing key " + name)),
    };
}
