using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Security;

/// <summary>
/// An organisation's root ("acme") and principals it blessed, as an operator issues them with <c>flowctl bless</c>:
/// each trusts the root, so peers blessed by it recognise each other's names.
/// </summary>
internal sealed class TrustWorld : IDisposable
{
    private readonly List<Principal> _principals = [];

    public TrustWorld()
    {
        Root = Principal.CreateInMemory();
        Root.DefaultBlessings = Root.BlessSelf("acme");
        _principals.Add(Root);
    }

    public Principal Root { get; }

    /// <summary>Base64 of the root's public key, as <c>FlowOrleans:Trust:Roots:N:PublicKey</c> takes it.</summary>
    public string RootKey => Convert.ToBase64String(Root.PublicKey.Bytes.Span);

    /// <summary>A principal blessed <c>acme:extension</c> that trusts the root.</summary>
    public Principal Blessed(string extension)
    {
        var principal = Principal.CreateInMemory();
        principal.DefaultBlessings = Root.Bless(principal.PublicKey, Root.DefaultBlessings, extension, Caveat.Unconstrained);
        principal.Roots.AddRootsOf(Root.DefaultBlessings);
        _principals.Add(principal);
        return principal;
    }

    /// <summary>A principal that calls itself <paramref name="name"/>, vouched for by nobody the root knows.</summary>
    public Principal SelfBlessed(string name)
    {
        var principal = Principal.CreateInMemory();
        principal.DefaultBlessings = principal.BlessSelf(name);
        _principals.Add(principal);
        return principal;
    }

    public void Dispose()
    {
        foreach (var principal in _principals)
        {
            principal.Dispose();
        }
    }
}
