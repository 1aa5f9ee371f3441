using System.Security.Cryptography;

namespace FlowOrleans.Transport.Security;

/// <summary>
/// An identity: an ECDSA P-256 private key, the blessings it presents by default and the roots it
/// trusts. It signs handshakes, blesses other keys (extending its own blessings) and mints discharges.
/// </summary>
public sealed class Principal : IDisposable
{
    private readonly ECDsa _key;
    private readonly Lock _dischargeLock = new();
    private readonly Dictionary<string, Discharge> _discharges = new(StringComparer.Ordinal);
    private TaskCompletionSource _dischargesChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Blessings _defaultBlessings = Blessings.Empty;
    private volatile bool _disposed;

    private Principal(ECDsa key, BlessingRoots roots)
    {
        _key = key;
        PublicKey = PublicKey.FromKey(key);
        Roots = roots;
    }

    public PublicKey PublicKey { get; }

    /// <summary>The roots this principal trusts when validating others' blessings.</summary>
    public BlessingRoots Roots { get; }

    /// <summary>The blessings presented to peers; must be bound to <see cref="PublicKey"/>. Defaults to <see cref="Blessings.Empty"/>.</summary>
    public Blessings DefaultBlessings
    {
        get => Volatile.Read(ref _defaultBlessings);
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (!value.IsEmpty && !PublicKey.Equals(value.PublicKey))
            {
                throw new FlowException(FlowErrorCode.BadArg, "Default blessings must be bound to the principal's own key.");
            }

            Volatile.Write(ref _defaultBlessings, value);
        }
    }

    /// <summary>A principal with a fresh key that lives only in memory.</summary>
    public static Principal CreateInMemory() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256), new BlessingRoots());

    /// <summary>Loads a principal saved by <see cref="Save"/>; a missing, corrupt or tampered one is <see cref="FlowErrorCode.BadArg"/>.</summary>
    public static Principal Load(string directory)
    {
        var (key, roots, blessings) = PrincipalStore.Load(directory);
        var principal = new Principal(key, roots);
        principal.DefaultBlessings = blessings;
        return principal;
    }

    /// <summary>Loads the principal in <paramref name="directory"/>, or creates, saves and returns a new one.</summary>
    public static Principal LoadOrCreate(string directory)
    {
        if (PrincipalStore.Exists(directory))
        {
            return Load(directory);
        }

        var principal = CreateInMemory();
        try
        {
            principal.Save(directory);
            return principal;
        }
        catch
        {
            principal.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes the private key (PKCS#8 PEM, owner-only on Unix), the roots and the default blessings to
    /// <paramref name="directory"/>. Roots and blessings are signed so tampering is detected on load.
    /// </summary>
    public void Save(string directory)
    {
        ThrowIfDisposed();
        PrincipalStore.Save(directory, _key, Roots, DefaultBlessings);
    }

    /// <summary>Signs SHA-256(len(purpose) || purpose || message): 64 bytes, IEEE P1363 (r || s).</summary>
    public byte[] Sign(string purpose, ReadOnlySpan<byte> message)
    {
        ArgumentNullException.ThrowIfNull(purpose);
        ThrowIfDisposed();
        return SignatureScheme.Sign(_key, purpose, message);
    }

    /// <summary>A blessing named <paramref name="name"/> (one extension) granted by this principal to itself.</summary>
    public Blessings BlessSelf(string name, params Caveat[] caveats)
    {
        ArgumentNullException.ThrowIfNull(caveats);
        ThrowIfDisposed();
        var caveatList = CopyCaveats(caveats);
        return Blessings.FromChains([[SignCertificate(default, name, PublicKey, caveatList)]]);
    }

    /// <summary>
    /// Extends each chain of <paramref name="with"/> (which must be bound to this principal's key) by
    /// <paramref name="extension"/>, granting the result to <paramref name="recipient"/> under the caveats.
    /// Use <see cref="Caveat.Unconstrained"/> to grant without restrictions.
    /// </summary>
    public Blessings Bless(PublicKey recipient, Blessings with, string extension, Caveat caveat, params Caveat[] additionalCaveats)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        ArgumentNullException.ThrowIfNull(with);
        ThrowIfDisposed();
        BlessingNames.ValidateExtension(extension);
        if (with.Chains.Count == 0)
        {
            throw new FlowException(FlowErrorCode.BadArg, "Cannot bless with blessings that carry no names.");
        }

        if (!PublicKey.Equals(with.PublicKey))
        {
            throw new FlowException(FlowErrorCode.BadArg, "Cannot bless with blessings bound to another principal's key.");
        }

        var caveats = Caveat.Combine(caveat, additionalCaveats, SecurityLimits.MaxCaveatsPerCertificate);
        var chains = new List<Certificate[]>();
        foreach (var chain in with.ChainSpan)
        {
            chains.Add([.. chain, SignCertificate(chain[^1].ChainDigest, extension, recipient, caveats)]);
        }

        return Blessings.FromChains(chains);
    }

    /// <summary>
    /// Issues a discharge for <paramref name="forCaveat"/>. It only validates if this principal is the
    /// caveat's discharger; checking the caveat's own restrictions first is the caller's job.
    /// </summary>
    public Discharge MintDischarge(ThirdPartyCaveat forCaveat, Caveat caveatOnDischarge, params Caveat[] additionalCaveats)
    {
        ArgumentNullException.ThrowIfNull(forCaveat);
        ThrowIfDisposed();
        var caveats = Caveat.Combine(caveatOnDischarge, additionalCaveats, SecurityLimits.MaxCaveatsPerCertificate);
        return Discharge.Mint(_key, forCaveat.DischargeId, caveats);
    }

    /// <summary>
    /// Remembers <paramref name="discharge"/> (replacing the one cached for the same third-party caveat) so that this
    /// principal presents it with blessings that carry the caveat (Vanadium's blessing store discharge cache). Fetching
    /// discharges from their dischargers is the application's part: every live connection whose presented blessings
    /// need the caveat sends the new discharge to its peer at once, which is how fresh discharges replace expiring ones
    /// without breaking the connection's flows.
    /// </summary>
    public void CacheDischarge(Discharge discharge)
    {
        ArgumentNullException.ThrowIfNull(discharge);
        TaskCompletionSource changed;
        lock (_dischargeLock)
        {
            _discharges[discharge.ThirdPartyCaveatId] = discharge;
            changed = _dischargesChanged;
            _dischargesChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    /// <summary>The cached discharges for the third-party caveats of <paramref name="blessings"/> (those cached, not fetched).</summary>
    public Discharges DischargesFor(Blessings blessings)
    {
        ArgumentNullException.ThrowIfNull(blessings);
        var caveats = blessings.ThirdPartyCaveats;
        if (caveats.Count == 0)
        {
            return Discharges.Empty;
        }

        var found = new List<Discharge>(caveats.Count);
        lock (_dischargeLock)
        {
            foreach (var caveat in caveats)
            {
                if (_discharges.TryGetValue(caveat.DischargeId, out var discharge))
                {
                    found.Add(discharge);
                }
            }
        }

        return Discharges.Create(found);
    }

    /// <summary>Completes at the next <see cref="CacheDischarge"/>: what a connection's discharge refresh waits on.</summary>
    internal Task DischargesChanged
    {
        get
        {
            lock (_dischargeLock)
            {
                return _dischargesChanged.Task;
            }
        }
    }

    /// <summary>Signs one link extending the chain whose digest is <paramref name="parentDigest"/> (empty: a self-signed first link).</summary>
    internal Certificate SignCertificate(ReadOnlySpan<byte> parentDigest, string extension, PublicKey recipient, Caveat[] caveats)
    {
        ThrowIfDisposed();
        return Certificate.Create(_key, parentDigest, extension, recipient, caveats);
    }

    public void Dispose()
    {
        _disposed = true;
        _key.Dispose();
    }

    private static Caveat[] CopyCaveats(Caveat[] caveats)
    {
        if (caveats.Length > SecurityLimits.MaxCaveatsPerCertificate)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"At most {SecurityLimits.MaxCaveatsPerCertificate} caveats are allowed.");
        }

        var copy = new Caveat[caveats.Length];
        for (var i = 0; i < caveats.Length; i++)
        {
            copy[i] = caveats[i] ?? throw new ArgumentNullException(nameof(caveats));
        }

        return copy;
    }

    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            throw new FlowException(FlowErrorCode.BadState, "The principal has been disposed.");
        }
    }
}
