namespace FlowOrleans.Grains.Security;

/// <summary>
/// Who the silo's transport is and whom it trusts, bound from <c>FlowOrleans:Trust</c>: its principal, the roots whose
/// blessings it recognises, the blessing patterns it accepts from peers that dial it, and the patterns dials must
/// meet when the caller names none. Accepting any authenticated peer (<see cref="AllowEveryone"/>) is never a default.
/// </summary>
public sealed class SiloTrustOptions
{
    /// <summary>
    /// Directory of the silo's principal (<c>privatekey.pem</c>, <c>state.bin</c>), loaded as it is, so a read-only
    /// mount (a Kubernetes Secret) works and the identity is the same after every restart; an empty writable directory
    /// gets a new principal. Default: none, a principal in memory, new at every start.
    /// </summary>
    public string? PrincipalDirectory { get; set; }

    /// <summary>Blessing the silo gives itself when its principal has none. Default <c>flow-orleans-silo</c>.</summary>
    public string BlessingName { get; set; } = "flow-orleans-silo";

    /// <summary>Roots recognised besides those stored with the principal: each a base64 DER public key and a pattern.</summary>
    public IList<TrustedRoot> Roots { get; } = new List<TrustedRoot>();

    /// <summary>
    /// Patterns a peer dialing the silo must present a valid blessing for (the manager's acceptor authorizer). Required
    /// unless <see cref="AllowEveryone"/>.
    /// </summary>
    public IList<string> AcceptPatterns { get; } = new List<string>();

    /// <summary>Patterns the peers the silo dials or pins must present when the caller names none.</summary>
    public IList<string> DialPatterns { get; } = new List<string>();

    /// <summary>
    /// Accept any peer that authenticates when <see cref="AcceptPatterns"/> (or, for dials, <see cref="DialPatterns"/>
    /// and the caller) name none. Default false; the Silo program prints a warning while it is on.
    /// </summary>
    public bool AllowEveryone { get; set; }
}

/// <summary>A root key trusted for blessing names matching <see cref="Pattern"/>.</summary>
public sealed class TrustedRoot
{
    /// <summary>Base64 of the root's DER (SubjectPublicKeyInfo) P-256 public key, as <c>Silo principal show</c> prints it.</summary>
    public string PublicKey { get; set; } = "";

    /// <summary>The names the root is an authority on, e.g. <c>acme</c>.</summary>
    public string Pattern { get; set; } = "";
}
