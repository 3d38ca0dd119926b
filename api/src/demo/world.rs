//! The generated world: Bình Dương's wards with streets, houses, volunteers and, for each
//! house, the visits the field days will make. Everything here follows from the seed.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sync_protocol::Outcome;

use super::{names, Scale, AREAS_CSV};

/// The four days of the campaign, 2020-08-17 to 2020-08-20.
pub const DAYS: usize = 4;

/// One row of the embedded area file.
#[derive(Debug, Clone)]
pub struct AreaLine {
    /// GSO code.
    pub code: String,
    /// Official name.
    pub name: String,
    /// `province`, `district` or `ward`.
    pub level: String,
}

/// A visit a house will get.
#[derive(Debug, Clone)]
pub struct PlannedVisit {
    /// 0 to 3: the day of the campaign.
    pub day: usize,
    /// What happens at the door.
    pub outcome: Outcome,
    /// People with a smartphone (conclusive outcomes with counts only).
    pub smartphone_users: Option<u32>,
    /// People with the app.
    pub app_users: Option<u32>,
}

/// A house on a street.
#[derive(Debug, Clone)]
pub struct House {
    /// As painted on the gate.
    pub number: String,
    /// On the ward's list before the campaign; otherwise a volunteer finds it and adds it.
    pub registered: bool,
    /// Which of the ward's volunteers knocks here.
    pub volunteer: usize,
    /// Its visits, in order.
    pub visits: Vec<PlannedVisit>,
}

/// A street of a ward.
#[derive(Debug, Clone)]
pub struct Street {
    /// Unique across all wards: `{ward code}-{nn}`.
    pub code: String,
    /// `Đường Nguyễn Trãi`, `Hẻm 12 Lê Lợi`, `Đường số 7`.
    pub name: String,
    /// The volunteers assigned to it (indexes into the ward's volunteers).
    pub volunteers: Vec<usize>,
    /// Its houses.
    pub houses: Vec<House>,
}

/// A ward with everything generated for it.
#[derive(Debug, Clone)]
pub struct Ward {
    /// The ward's area line.
    pub area: AreaLine,
    /// How many volunteers it has.
    pub volunteers: usize,
    /// Its streets.
    pub streets: Vec<Street>,
}

/// The whole generated world.
#[derive(Debug, Clone)]
pub struct World {
    /// Every line of the area file.
    pub areas: Vec<AreaLine>,
    /// The wards, in file order.
    pub wards: Vec<Ward>,
}

/// Reads the embedded area file.
pub fn area_lines() -> Result<Vec<AreaLine>, String> {
    let mut reader = csv::Reader::from_reader(AREAS_CSV.as_bytes());
    let mut lines = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("the embedded area file: {e}"))?;
        let field = |i: usize| record.get(i).unwrap_or_default().to_owned();
        lines.push(AreaLine {
            code: field(0),
            name: field(1),
            level: field(2),
        });
    }
    Ok(lines)
}

/// How eager a ward is: how many of its houses it reaches, how readily its households
/// install the app, and how its work spreads over the four days.
struct Temper {
    reach: f64,
    install: f64,
    pace: [f64; DAYS],
}

fn temper(rng: &mut StdRng) -> Temper {
    let pace = match rng.gen_range(0..4) {
        0 => [0.0, 0.2, 0.4, 0.4], // started late
        1 => [0.4, 0.3, 0.2, 0.1], // started strong
        _ => [0.25, 0.25, 0.25, 0.25],
    };
    Temper {
        reach: rng.gen_range(0.45..0.95),
        // Spread around the 60% target: some wards meet it, some stay far below.
        install: rng.gen_range(0.25..0.9),
        pace,
    }
}

fn pick_day(rng: &mut StdRng, pace: &[f64; DAYS]) -> usize {
    let mut roll = rng.gen_range(0.0..1.0);
    for (day, share) in pace.iter().enumerate() {
        if roll < *share {
            return day;
        }
        roll -= share;
    }
    DAYS - 1
}

fn conclusive(rng: &mut StdRng, install: f64, day: usize) -> PlannedVisit {
    if rng.gen_bool(0.08) {
        return PlannedVisit {
            day,
            outcome: Outcome::NoSmartphone,
            smartphone_users: None,
            app_users: None,
        };
    }
    let phones = match rng.gen_range(0..10) {
        0..=2 => 1,
        3..=6 => 2,
        7..=8 => 3,
        _ => 4,
    };
    let with_app = (0..phones).filter(|_| rng.gen_bool(install)).count() as u32;
    let outcome = match with_app {
        0 => Outcome::Declined,
        _ if rng.gen_bool(0.35) => Outcome::AlreadyInstalled,
        _ => Outcome::InstalledNow,
    };
    PlannedVisit {
        day,
        outcome,
        smartphone_users: Some(phones),
        app_users: Some(with_app),
    }
}

fn visits_of_house(rng: &mut StdRng, temper: &Temper) -> Vec<PlannedVisit> {
    if !rng.gen_bool(temper.reach) {
        return Vec::new();
    }
    let day = pick_day(rng, &temper.pace);
    if rng.gen_bool(0.15) {
        let knock = PlannedVisit {
            day,
            outcome: Outcome::NotHome,
            smartphone_users: None,
            app_users: None,
        };
        // Nobody home: some are tried again on a later day, some never.
        if day + 1 < DAYS && rng.gen_bool(0.7) {
            let again = rng.gen_range(day + 1..DAYS);
            return vec![knock, conclusive(rng, temper.install, again)];
        }
        return vec![knock];
    }
    vec![conclusive(rng, temper.install, day)]
}

fn ward(rng: &mut StdRng, area: AreaLine, scale: Scale) -> Ward {
    let size = scale.0.sqrt();
    let temper = temper(rng);
    let volunteers = ((3.0 * size).round() as usize).max(1);
    let streets_wanted = ((5.0 * size).round() as usize).max(2) + rng.gen_range(0..3);
    let street_names = names::streets(rng, streets_wanted);
    let mut streets = Vec::with_capacity(street_names.len());
    for (index, name) in street_names.into_iter().enumerate() {
        let mean = (60.0 * size).max(4.0);
        let houses_wanted = rng.gen_range(mean * 0.6..mean * 1.4).round() as usize;
        let mut assigned = vec![index % volunteers];
        // The first street of a ward with several volunteers is walked by two of them,
        // so each sees the other's knocks when it pulls.
        if index == 0 && volunteers > 1 {
            assigned.push(1);
        }
        let houses = (0..houses_wanted.max(3))
            .map(|h| House {
                number: names::house_number(rng, h),
                registered: !rng.gen_bool(0.03),
                volunteer: assigned[h % assigned.len()],
                visits: visits_of_house(rng, &temper),
            })
            .collect();
        streets.push(Street {
            code: format!("{}-{:02}", area.code, index + 1),
            name,
            volunteers: assigned,
            houses,
        });
    }
    Ward {
        area,
        volunteers,
        streets,
    }
}

impl World {
    /// The world of `seed` at `scale`.
    pub fn generate(seed: u64, scale: Scale) -> Result<World, String> {
        let areas = area_lines()?;
        let mut rng = StdRng::seed_from_u64(seed);
        let wards = areas
            .iter()
            .filter(|a| a.level == "ward")
            .map(|a| ward(&mut rng, a.clone(), scale))
            .collect();
        Ok(World { areas, wards })
    }

    /// `POST /streets/import` body.
    pub fn streets_csv(&self) -> String {
        let mut csv = String::from("ward_code,code,name\n");
        for ward in &self.wards {
            for street in &ward.streets {
                csv.push_str(&format!(
                    "{},{},{}\n",
                    ward.area.code, street.code, street.name
                ));
            }
        }
        csv
    }

    /// `POST /households/import` body: the registered houses.
    pub fn households_csv(&self) -> String {
        let mut csv = String::from("street_code,house_number\n");
        for street in self.wards.iter().flat_map(|w| &w.streets) {
            for house in street.houses.iter().filter(|h| h.registered) {
                // House numbers such as 12/5 hold no comma; quote anyway, as a CSV writer would.
                csv.push_str(&format!("{},\"{}\"\n", street.code, house.number));
            }
        }
        csv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_makes_the_same_world() -> Result<(), String> {
        let a = World::generate(5, Scale(0.1))?;
        let b = World::generate(5, Scale(0.1))?;
        assert_eq!(a.streets_csv(), b.streets_csv());
        assert_eq!(a.households_csv(), b.households_csv());
        assert_eq!(a.wards.len(), 91);
        Ok(())
    }

    #[test]
    fn a_normal_ward_has_a_few_hundred_houses() -> Result<(), String> {
        let world = World::generate(1, Scale(1.0))?;
        let houses: usize = world
            .wards
            .iter()
            .flat_map(|w| &w.streets)
            .map(|s| s.houses.len())
            .sum();
        let per_ward = houses / world.wards.len();
        assert!(
            (200..=600).contains(&per_ward),
            "{per_ward} houses per ward"
        );
        Ok(())
    }
}
