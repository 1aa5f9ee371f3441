using FlowOrleans.Grains.Hosting;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Options;

namespace FlowOrleans.Grains.Security;

/// <summary>
/// The identity the silo's flow manager presents unless its options name another. A stored principal
/// (<see cref="SiloTrustOptions.PrincipalDirectory"/>) is loaded and never written, so a read-only Secret mount works and
/// the key survives restarts; an empty directory gets a new principal saved there; without a directory it lives in
/// memory. A principal without blessings is blessed as <see cref="SiloTrustOptions.BlessingName"/> in memory only. The
/// configured <see cref="SiloTrustOptions.Roots"/> join the stored ones, in memory. Owns the key, so the container
/// disposes it with the silo.
/// </summary>
internal sealed class SiloPrincipal : IDisposable
{
    public SiloPrincipal(IOptions<FlowOrleansOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var trust = options.Value.Trust;
        Principal = Load(trust);
        try
        {
            AddRoots(Principal, trust.Roots);
        }
        catch
        {
            Principal.Dispose();
            throw;
        }
    }

    public Principal Principal { get; }

    /// <summary>True when the principal came from, or was saved to, a directory.</summary>
    public bool IsStored { get; private set; }

    public void Dispose() => Principal.Dispose();

    /// <summary>Adds <paramref name="roots"/> to what <paramref name="principal"/> recognises; a malformed one is <see cref="FlowErrorCode.BadArg"/>.</summary>
    internal static void AddRoots(Principal principal, IEnumerable<TrustedRoot> roots)
    {
        foreach (var root in roots)
        {
            byte[] key;
            try
            {
                key = Convert.FromBase64String(root.PublicKey);
            }
            catch (FormatException e)
            {
                throw new FlowException(FlowErrorCode.BadArg, $"{FlowOrleansOptions.TrustSectionName}:Roots: '{root.PublicKey}' is not base64.", e);
            }

            principal.Roots.Add(PublicKey.FromBytes(key), BlessingPattern.Parse(root.Pattern));
        }
    }

    private Principal Load(SiloTrustOptions trust)
    {
        if (trust.PrincipalDirectory is not { Length: > 0 } directory)
        {
            return BlessIfBare(Principal.CreateInMemory(), trust.BlessingName);
        }

        IsStored = true;
        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
        {
            // Whatever is there is the identity: a half-present or corrupt principal fails the start rather than being replaced.
            return BlessIfBare(Principal.Load(directory), trust.BlessingName);
        }

        var created = BlessIfBare(Principal.CreateInMemory(), trust.BlessingName);
        try
        {
            created.Save(directory);
            return created;
        }
        catch
        {
            created.Dispose();
            throw;
        }
    }

    private static Principal BlessIfBare(Principal principal, string name)
    {
        if (principal.DefaultBlessings.IsEmpty)
        {
            principal.DefaultBlessings = principal.BlessSelf(name);
        }

        return principal;
    }
}
