using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Options;

namespace FlowOrleans.Grains.Hosting;

/// <summary>
/// The identity the silo's flow manager presents unless its options name another: loaded from
/// <see cref="FlowOrleansOptions.PrincipalDirectory"/> (created there when missing) or made in memory, blessed as
/// <see cref="FlowOrleansOptions.BlessingName"/>. Owns the key, so the container disposes it with the silo.
/// </summary>
internal sealed class SiloPrincipal : IDisposable
{
    public SiloPrincipal(IOptions<FlowOrleansOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Principal = Load(options.Value);
    }

    public Principal Principal { get; }

    public void Dispose() => Principal.Dispose();

    private static Principal Load(FlowOrleansOptions options)
    {
        if (options.PrincipalDirectory is { Length: > 0 } directory)
        {
            var stored = Principal.LoadOrCreate(directory);
            if (stored.DefaultBlessings.IsEmpty)
            {
                stored.DefaultBlessings = stored.BlessSelf(options.BlessingName);
                stored.Save(directory);
            }

            return stored;
        }

        var principal = Principal.CreateInMemory();
        principal.DefaultBlessings = principal.BlessSelf(options.BlessingName);
        return principal;
    }
}
