using System.Security.Cryptography;
using FlowOrleans.Transport.Connections;

namespace FlowOrleans.Tests.Connections;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class EphemeralKeysTests
{
    [Fact]
    public async Task EveryKeyIsFreshP256AndHandedOutOnce()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var keys = new List<EphemeralKey>();
        try
        {
            // Sequential takes use the pre-generated key; concurrent ones race for it and generate their own.
            for (var i = 0; i < 20; i++)
            {
                keys.Add(EphemeralKeys.Take());
            }

            keys.AddRange(await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(EphemeralKeys.Take))));
            foreach (var key in keys)
            {
                Assert.True(seen.Add(Convert.ToHexString(key.PublicKey)), "a key pair was handed out twice");
                Assert.Equal(ECCurve.NamedCurves.nistP256.Oid.Value, key.Key.ExportParameters(false).Curve.Oid.Value);
                Assert.Equal(key.Key.ExportSubjectPublicKeyInfo(), key.PublicKey);
            }

            Assert.Equal(keys.Count, keys.Select(k => k.Key).Distinct().Count());
        }
        finally
        {
            keys.ForEach(k => k.Dispose());
        }
    }
}
