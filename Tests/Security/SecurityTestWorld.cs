using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Security;

/// <summary>
/// Three principals blessed in a chain root -> alice -> phone, plus a verifier that trusts "root",
/// and a fixed clock. Disposes every principal it created.
/// </summary>
internal sealed class SecurityTestWorld : IDisposable
{
    public static readonly DateTimeOffset Now = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly List<Principal> _principals = [];

    public SecurityTestWorld()
    {
        Root = NewPrincipal();
        Alice = NewPrincipal();
        Phone = NewPrincipal();
        Verifier = NewPrincipal();

        RootBlessings = Root.BlessSelf("root");
        AliceBlessings = Root.Bless(Alice.PublicKey, RootBlessings, "alice", Caveat.Unconstrained);
        Alice.DefaultBlessings = AliceBlessings;
        Verifier.Roots.AddRootsOf(RootBlessings);
    }

    public Principal Root { get; }

    public Principal Alice { get; }

    public Principal Phone { get; }

    public Principal Verifier { get; }

    public Blessings RootBlessings { get; }

    public Blessings AliceBlessings { get; }

    public Principal NewPrincipal()
    {
        var principal = Principal.CreateInMemory();
        _principals.Add(principal);
        return principal;
    }

    /// <summary>root:alice:phone, with the given caveats on the phone link (unconstrained if none).</summary>
    public Blessings PhoneBlessings(params Caveat[] caveats) =>
        caveats.Length == 0
            ? Alice.Bless(Phone.PublicKey, AliceBlessings, "phone", Caveat.Unconstrained)
            : Alice.Bless(Phone.PublicKey, AliceBlessings, "phone", caveats[0], caveats[1..]);

    public static SecurityCall Call(string? method = null, Discharges? discharges = null, DateTimeOffset? now = null) =>
        new()
        {
            Now = now ?? Now,
            Method = method,
            RemoteDischarges = discharges ?? Discharges.Empty,
        };

    /// <summary>Validates bytes as a peer would receive them: decode, then validate against the verifier's roots.</summary>
    public BlessingValidationResult ValidateWire(Blessings blessings, SecurityCall call) =>
        BlessingValidator.Validate(Blessings.Decode(blessings.ToBytes()), Verifier.Roots, call);

    public void Dispose()
    {
        foreach (var principal in _principals)
        {
            principal.Dispose();
        }
    }
}
