namespace FlowOrleans.GrainInterfaces;

/// <summary>Converts between silo addresses and the string keys of silo-bound grains.</summary>
public static class SiloKeys
{
    public static string ToKey(SiloAddress silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        return silo.ToParsableString();
    }

    public static bool TryParse(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SiloAddress? silo)
    {
        try
        {
            silo = SiloAddress.FromParsableString(key);
            return true;
        }
        catch (FormatException)
        {
            silo = null;
            return false;
        }
    }
}
